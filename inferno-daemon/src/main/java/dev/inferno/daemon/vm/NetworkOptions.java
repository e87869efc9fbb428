package dev.inferno.daemon.vm;

import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.network.InvalidPortSpecException;
import dev.inferno.daemon.network.Ipv4Cidr;
import dev.inferno.daemon.network.PortParser;
import dev.inferno.daemon.network.PortSpec;
import dev.inferno.model.RunRequest;
import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A run request's network options, checked (every refusal is a 400 naming the value and what to
 * write instead, before anything is created): the one place their rules live.
 *
 * @param network "default" or "none"
 * @param ports the {@code -p} publications, parsed (host port 0 = random)
 * @param publishAll {@code -P}: also every port the image EXPOSEs
 * @param hostname the guest's hostname, or null for the default
 * @param dns nameservers (IPv4), or null for the host's
 * @param dnsSearch search domains, or null for the host's
 * @param hosts {@code --add-host} entries as /etc/hosts lines ("IP NAME")
 */
record NetworkOptions(
    String network,
    List<PortSpec> ports,
    boolean publishAll,
    String hostname,
    List<String> dns,
    List<String> dnsSearch,
    List<String> hosts) {
  static final String DEFAULT = "default";
  static final String NONE = "none";

  // RFC 1123 labels, dot separated: what a hostname in /etc/hosts and uname can be
  private static final Pattern HOSTNAME =
      Pattern.compile(
          "(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
              + "(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
  private static final Pattern DOMAIN = Pattern.compile("[A-Za-z0-9_.-]{1,253}");

  /** Whether the VM gets a NIC (its own TAP). */
  boolean attached() {
    return network.equals(DEFAULT);
  }

  static NetworkOptions of(RunRequest r) {
    String network = network(r.network());
    List<PortSpec> ports;
    try {
      ports = PortParser.parseAll(r.ports() == null ? List.of() : r.ports());
    } catch (InvalidPortSpecException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    boolean publishAll = Boolean.TRUE.equals(r.publishAll());
    if (network.equals(NONE) && (!ports.isEmpty() || publishAll)) {
      // as Docker: a VM without a network has nothing to publish from
      throw ApiException.badRequest(
          "--network none and publishing ports (-p/-P) conflict: a VM on no network has no"
              + " address to publish; drop one of them");
    }
    String hostname = r.hostname();
    if (hostname != null && !HOSTNAME.matcher(hostname).matches()) {
      throw ApiException.badRequest(
          "invalid hostname \""
              + hostname
              + "\": letters, digits and '-' in dot-separated labels of up to 63 characters");
    }
    List<String> dns = null;
    if (r.dns() != null) {
      dns = new ArrayList<>();
      for (String ns : r.dns()) {
        if (ns == null || !Ipv4Cidr.isAddress(ns)) {
          throw ApiException.badRequest(
              "invalid --dns \""
                  + ns
                  + "\": give a nameserver's IPv4 address (a VM has IPv6 link-local only)");
        }
        dns.add(ns);
      }
    }
    List<String> search = null;
    if (r.dnsSearch() != null) {
      search = new ArrayList<>();
      for (String d : r.dnsSearch()) {
        if (d == null || !DOMAIN.matcher(d).matches()) {
          throw ApiException.badRequest(
              "invalid --dns-search \"" + d + "\": give a domain name such as example.com");
        }
        search.add(d);
      }
    }
    List<String> hosts = new ArrayList<>();
    for (String h : r.extraHosts() == null ? List.<String>of() : r.extraHosts()) {
      hosts.add(hostsLine(h));
    }
    return new NetworkOptions(network, ports, publishAll, hostname, dns, search, hosts);
  }

  private static String network(String n) {
    if (n == null || n.equals(DEFAULT) || n.equals("bridge")) {
      return DEFAULT; // "bridge" is Docker's name for its default network
    }
    if (n.equals(NONE)) {
      return NONE;
    }
    if (n.equals("host")) {
      throw ApiException.badRequest(
          "--network host is not possible: a VM runs its own kernel with its own network stack,"
              + " so it cannot share the host's; publish ports with -p instead");
    }
    throw ApiException.badRequest(
        "unknown network \""
            + n
            + "\": inferno has \"default\" (alias \"bridge\": its own address, NAT out) and"
            + " \"none\" (only lo)");
  }

  /** {@code --add-host NAME:IP} (IPv6 after the first ':') as an /etc/hosts line. */
  private static String hostsLine(String h) {
    int colon = h == null ? -1 : h.indexOf(':');
    String name = colon < 0 ? "" : h.substring(0, colon);
    String ip = colon < 0 ? "" : h.substring(colon + 1);
    if (ip.startsWith("[") && ip.endsWith("]")) {
      ip = ip.substring(1, ip.length() - 1);
    }
    if (!HOSTNAME.matcher(name).matches() || !(Ipv4Cidr.isAddress(ip) || isIpv6(ip))) {
      throw ApiException.badRequest(
          "invalid --add-host \"" + h + "\": write NAME:IP, e.g. db.local:10.0.0.5");
    }
    return ip + " " + name;
  }

  private static boolean isIpv6(String s) {
    try {
      Inet6Address.ofLiteral(s);
      return !s.contains("%");
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** What to publish: the {@code -p} ports, then with {@code -P} every EXPOSE of the image. */
  List<PortSpec> published(ImageInfo image) {
    List<PortSpec> out = new ArrayList<>(ports);
    if (publishAll) {
      try {
        out.addAll(PortParser.exposed(image.exposedPorts()));
      } catch (InvalidPortSpecException e) {
        throw ApiException.badRequest(
            "image " + image.reference() + " has a bad EXPOSE entry: " + e.getMessage());
      }
    }
    return out;
  }
}
