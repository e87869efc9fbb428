package dev.inferno.daemon.network;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The nameservers a guest gets by default: the host's upstream ones. A loopback resolver in
 * /etc/resolv.conf (systemd-resolved's 127.0.0.53, a local dnsmasq) is unreachable from a VM, so it
 * is skipped, and systemd-resolved's list of real upstreams is read instead. Only IPv4 nameservers
 * are kept: the guest has IPv6 link-local only. When none is left the list is empty and a warning
 * says so (Docker would fall back to Google's 8.8.8.8; inferno does not send the user's queries to
 * a third party unasked: --dns says where).
 */
public final class HostResolvers {
  public static final Path RESOLV_CONF = Path.of("/etc/resolv.conf");
  public static final Path SYSTEMD_RESOLV_CONF = Path.of("/run/systemd/resolve/resolv.conf");

  private HostResolvers() {}

  /** The guest's defaults: nameservers (IPv4 literals), search domains, and why it may be short. */
  public record Resolvers(List<String> nameservers, List<String> search, List<String> warnings) {}

  /** Reads the host's files. */
  public static Resolvers read() throws IOException {
    return resolve(Files.readString(RESOLV_CONF), readIfExists(SYSTEMD_RESOLV_CONF));
  }

  /**
   * The defaults from the text of /etc/resolv.conf and, when it exists, of systemd-resolved's
   * upstream file (consulted only if /etc/resolv.conf names a loopback resolver).
   */
  public static Resolvers resolve(String resolvConf, Optional<String> systemdResolvConf) {
    List<String> warnings = new ArrayList<>();
    List<String> all = nameservers(resolvConf);
    List<String> usable = usable(all);
    boolean hadLoopback = all.stream().anyMatch(HostResolvers::isLoopback);
    if (hadLoopback && systemdResolvConf.isPresent()) {
      for (String ns : usable(nameservers(systemdResolvConf.get()))) {
        if (!usable.contains(ns)) {
          usable.add(ns);
        }
      }
    }
    if (usable.isEmpty()) {
      warnings.add(
          "the host's resolv.conf has no nameserver a VM can reach"
              + (hadLoopback ? " (only loopback ones, and no systemd-resolved upstream list)" : "")
              + ": VMs get no nameserver unless run with --dns");
    }
    return new Resolvers(List.copyOf(usable), search(resolvConf), List.copyOf(warnings));
  }

  /** Every {@code nameserver} entry of a resolv.conf, in order. */
  public static List<String> nameservers(String resolvConf) {
    List<String> out = new ArrayList<>();
    for (String line : resolvConf.lines().toList()) {
      String[] f = fields(line);
      if (f.length >= 2 && f[0].equals("nameserver")) {
        out.add(f[1]);
      }
    }
    return out;
  }

  /** The search domains: the last {@code search} or {@code domain} line wins, as in glibc. */
  public static List<String> search(String resolvConf) {
    List<String> out = List.of();
    for (String line : resolvConf.lines().toList()) {
      String[] f = fields(line);
      if (f.length >= 2 && (f[0].equals("search") || f[0].equals("domain"))) {
        out = List.of(f).subList(1, f.length);
      }
    }
    return out;
  }

  private static String[] fields(String line) {
    String l = line.strip();
    int hash = indexOfComment(l);
    if (hash >= 0) {
      l = l.substring(0, hash).strip();
    }
    return l.isEmpty() ? new String[0] : l.split("\\s+");
  }

  private static int indexOfComment(String l) {
    int a = l.indexOf('#');
    int b = l.indexOf(';');
    if (a < 0) {
      return b;
    }
    return b < 0 ? a : Math.min(a, b);
  }

  private static List<String> usable(List<String> nameservers) {
    List<String> out = new ArrayList<>();
    for (String ns : nameservers) {
      if (Ipv4Cidr.isAddress(ns) && !isLoopback(ns) && !out.contains(ns)) {
        out.add(ns);
      }
    }
    return out;
  }

  static boolean isLoopback(String ns) {
    if (Ipv4Cidr.isAddress(ns)) {
      return (Ipv4Cidr.parseAddress(ns) >>> 24) == 127;
    }
    return ns.equals("::1") || ns.equals("0:0:0:0:0:0:0:1");
  }

  private static Optional<String> readIfExists(Path p) throws IOException {
    try {
      return Optional.of(Files.readString(p));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }
}
