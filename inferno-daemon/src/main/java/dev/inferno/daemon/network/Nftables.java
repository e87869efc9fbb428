package dev.inferno.daemon.network;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The daemon's firewall and NAT: one nftables table of its own ({@code table inet inferno}), never
 * another table, so Docker's and the admin's rules stay as they are. Every change is one {@code nft
 * -f -} transaction: it applies whole or not at all.
 *
 * <ul>
 *   <li>prerouting: published ports are DNATed to the guest through two maps, one for ports
 *       published on all the host's addresses (key {@code l4proto . port}, matched only for traffic
 *       to a local address), one for ports published on one IPv4 address (key {@code ip daddr .
 *       l4proto . port}). Traffic from the host itself never passes prerouting: {@link PortProxy}
 *       serves it.
 *   <li>postrouting: VMs' traffic leaving the pool is masqueraded (outbound NAT).
 *   <li>forward: replies pass; VM to VM is dropped; VM to elsewhere passes; to a VM only what was
 *       DNATed (a published port) passes.
 *   <li>input: a VM may reach the host only for replies and, when the host gives DNS, port 53 (plus
 *       IPv6 neighbour discovery, which link-local addressing needs); nothing else.
 * </ul>
 *
 * The rules match a VM's link by name through the set {@code links}, which holds exactly the TAPs
 * of the running VMs: a host interface that merely shares the TAPs' prefix is never filtered. A
 * VM's elements (its TAP, its ports) come and go with {@link #add}/{@link #remove}; daemon start
 * {@link #rebuild}s the whole table from the database.
 */
public final class Nftables {
  public static final String TABLE = "inferno";

  /**
   * What the rules depend on: the table's name, the pool, the interface name prefix of the VMs'
   * TAPs (the names {@link TapDevices} gives them; the rules name each TAP, see {@code links}) and
   * whether VMs may query DNS on the host.
   */
  public record Config(String table, Ipv4Cidr pool, String devicePrefix, boolean hostDns) {
    public Config {
      tableProblem(table)
          .ifPresent(p -> {
            throw new IllegalArgumentException("bad nftables table name " + p);
          });
      if (!devicePrefix.matches("[a-z][a-z0-9]{0,14}")) {
        throw new IllegalArgumentException("bad interface prefix " + devicePrefix);
      }
    }

    /** Why {@code table} cannot name a table of the daemon's, if it cannot: the one rule for it. */
    public static Optional<String> tableProblem(String table) {
      return table.matches("[a-z][a-z0-9_]{0,31}")
          ? Optional.empty()
          : Optional.of(
              "\"" + table + "\" must be a letter, then up to 31 lower-case letters, digits or _");
    }

    public static Config defaults(Ipv4Cidr pool, boolean hostDns) {
      return new Config(TABLE, pool, TapDevices.PREFIX, hostDns);
    }
  }

  /** A published port with the guest address it goes to; the host port is the bound one. */
  public record Mapping(PortSpec port, int guestAddress) {
    public Mapping {
      if (port.randomHostPort()) {
        throw new IllegalArgumentException(
            "bind the proxy first: " + port + " has no host port yet");
      }
    }

    /** Whether DNAT handles it: IPv6 host addresses are served by the proxy alone. */
    boolean natted() {
      return port.allAddresses() || Ipv4Cidr.isAddress(port.hostIp());
    }
  }

  private final Config config;

  public Nftables(Config config) {
    this.config = config;
  }

  public Config config() {
    return config;
  }

  /**
   * The transaction that replaces the table (if any) with a fresh one holding these VM links (TAPs)
   * and mappings.
   */
  public String renderTable(Collection<String> links, Collection<Mapping> mappings) {
    String t = "inet " + config.table();
    String dev = "@links";
    String pool = config.pool().toString();
    StringBuilder s = new StringBuilder();
    // "table" first makes "delete table" valid when the table does not exist yet
    s.append("table ").append(t).append('\n');
    s.append("delete table ").append(t).append('\n');
    s.append("table ").append(t).append(" {\n");
    s.append("  set links {\n");
    s.append("    type ifname\n");
    s.append("  }\n");
    s.append("  map published {\n");
    s.append("    type inet_proto . inet_service : ipv4_addr . inet_service\n");
    s.append("  }\n");
    s.append("  map published_ip {\n");
    s.append("    type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service\n");
    s.append("  }\n");
    s.append("  chain prerouting {\n");
    s.append("    type nat hook prerouting priority dstnat; policy accept;\n");
    s.append("    meta nfproto ipv4 meta l4proto { tcp, udp }")
        .append(" dnat ip to ip daddr . meta l4proto . th dport map @published_ip\n");
    s.append("    meta nfproto ipv4 fib daddr type local meta l4proto { tcp, udp }")
        .append(" dnat ip to meta l4proto . th dport map @published\n");
    s.append("  }\n");
    s.append("  chain postrouting {\n");
    s.append("    type nat hook postrouting priority srcnat; policy accept;\n");
    s.append("    ip saddr ").append(pool).append(" ip daddr != ").append(pool);
    s.append(" masquerade\n");
    s.append("  }\n");
    s.append("  chain forward {\n");
    s.append("    type filter hook forward priority filter; policy accept;\n");
    s.append("    ct state established,related accept\n");
    s.append("    iifname ").append(dev).append(" oifname ").append(dev).append(" drop\n");
    s.append("    iifname ").append(dev).append(" accept\n");
    s.append("    oifname ").append(dev).append(" ct status dnat accept\n");
    s.append("    oifname ").append(dev).append(" drop\n");
    s.append("  }\n");
    s.append("  chain input {\n");
    s.append("    type filter hook input priority filter; policy accept;\n");
    s.append("    iifname ").append(dev).append(" ct state established,related accept\n");
    if (config.hostDns()) {
      s.append("    iifname ")
          .append(dev)
          .append(" meta l4proto { tcp, udp } th dport 53 accept\n");
    }
    s.append("    iifname ")
        .append(dev)
        .append(" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n");
    s.append("    iifname ").append(dev).append(" drop\n");
    s.append("  }\n");
    s.append("}\n");
    for (String link : links) {
      s.append(link("add", link));
    }
    s.append(elements("add", mappings, true));
    return s.toString();
  }

  /** The transaction that adds a VM's link (its TAP) and published ports. */
  public String renderAdd(String link, Collection<Mapping> mappings) {
    return link("add", link) + elements("add", mappings, true);
  }

  /**
   * The transaction that removes a VM's link and published ports. Each element is added before it
   * is deleted, so removing one that is already gone is not an error (nft 1.0.6 has no "destroy").
   */
  public String renderRemove(String link, Collection<Mapping> mappings) {
    return link("add", link)
        + elements("add", mappings, true)
        + link("delete", link)
        + elements("delete", mappings, false);
  }

  private String link(String verb, String link) {
    if (!link.matches("[a-z][a-z0-9]{0,14}")) {
      throw new IllegalArgumentException("bad interface name " + link);
    }
    return verb + " element inet " + config.table() + " links { \"" + link + "\" }\n";
  }

  private String elements(String verb, Collection<Mapping> mappings, boolean withValue) {
    StringBuilder s = new StringBuilder();
    for (Mapping m : mappings) {
      if (!m.natted()) {
        continue;
      }
      PortSpec p = m.port();
      s.append(verb).append(" element inet ").append(config.table()).append(' ');
      if (p.allAddresses()) {
        s.append("published { ");
      } else {
        s.append("published_ip { ").append(p.hostIp()).append(" . ");
      }
      s.append(p.protocol().id()).append(" . ").append(p.hostPort());
      if (withValue) {
        s.append(" : ")
            .append(Ipv4Cidr.formatAddress(m.guestAddress()))
            .append(" . ")
            .append(p.guestPort());
      }
      s.append(" }\n");
    }
    return s.toString();
  }

  /** Replaces the table with one holding these links and mappings, atomically. */
  public void rebuild(Collection<String> links, Collection<Mapping> mappings) throws IOException {
    apply(renderTable(links, mappings));
  }

  /** A VM's TAP becomes a VM link (filtered as one) and its ports are published. */
  public void add(String link, Collection<Mapping> mappings) throws IOException {
    apply(renderAdd(link, mappings));
  }

  public void remove(String link, Collection<Mapping> mappings) throws IOException {
    apply(renderRemove(link, mappings));
  }

  /** Removes the table (and so every rule of the daemon's); one that is gone is not an error. */
  public void deleteTable() throws IOException {
    String t = "inet " + config.table();
    apply("table " + t + "\ndelete table " + t + "\n");
  }

  /** The table as nft lists it in JSON, for checks and diagnostics. */
  public String listJson() throws IOException {
    return Commands.run(List.of("nft", "-j", "list", "table", "inet", config.table()), "");
  }

  private static void apply(String script) throws IOException {
    if (script.isEmpty()) {
      return;
    }
    Commands.run(List.of("nft", "-f", "-"), script);
  }
}
