package dev.inferno.daemon.network;

import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Docker's {@code -p} grammar, {@code [IP:][HOSTPORT:]PORT[/tcp|udp]}, and {@code -P}'s expansion
 * of the image's EXPOSE entries. The one owner of that grammar in the daemon.
 *
 * <ul>
 *   <li>{@code 80}: guest port 80 on a random host port, all addresses, tcp;
 *   <li>{@code 8080:80}, {@code 127.0.0.1:8080:80}, {@code 127.0.0.1::80} (random host port on that
 *       address), {@code [::1]:8080:80} (IPv6 in brackets);
 *   <li>ranges: {@code 8000-8010:80-90} (same length), {@code 80-90} (random host ports).
 * </ul>
 *
 * Unlike Docker, a host range with a single guest port ({@code 8000-8010:80}, "any free port of the
 * range") is refused: say the host port, or leave it out for a random one.
 */
public final class PortParser {
  private PortParser() {}

  /** Parses one {@code -p} value; a range gives one spec per port. */
  public static List<PortSpec> parse(String spec) {
    String rest = spec.trim();
    if (rest.isEmpty()) {
      throw new InvalidPortSpecException(spec, "it is empty; write [IP:][HOSTPORT:]PORT[/tcp|udp]");
    }
    Protocol protocol = Protocol.TCP;
    int slash = rest.lastIndexOf('/');
    if (slash >= 0) {
      protocol = protocol(spec, rest.substring(slash + 1));
      rest = rest.substring(0, slash);
    }
    String hostIp = "";
    if (rest.startsWith("[")) {
      int close = rest.indexOf(']');
      if (close < 0 || close + 1 >= rest.length() || rest.charAt(close + 1) != ':') {
        throw new InvalidPortSpecException(
            spec, "an IPv6 host address goes in brackets followed by ':', e.g. [::1]:8080:80");
      }
      hostIp = ipv6(spec, rest.substring(1, close));
      rest = rest.substring(close + 2);
      if (rest.indexOf(':') < 0) {
        // [IP]:PORT would be ambiguous in Docker too; it means [IP]::PORT there. Keep it explicit.
        throw new InvalidPortSpecException(
            spec, "after the host address give HOSTPORT:PORT, or :PORT for a random host port");
      }
    }
    String[] parts = rest.split(":", -1);
    String hostPorts;
    String guestPorts;
    switch (parts.length) {
      case 1 -> {
        if (!hostIp.isEmpty()) {
          throw new InvalidPortSpecException(spec, "a host address needs HOSTPORT:PORT after it");
        }
        hostPorts = "";
        guestPorts = parts[0];
      }
      case 2 -> {
        hostPorts = parts[0];
        guestPorts = parts[1];
      }
      case 3 -> {
        if (!hostIp.isEmpty()) {
          throw new InvalidPortSpecException(spec, "too many ':' separated parts");
        }
        hostIp = ipv4(spec, parts[0]);
        hostPorts = parts[1];
        guestPorts = parts[2];
      }
      default ->
          throw new InvalidPortSpecException(
              spec,
              "too many ':' separated parts; an IPv6 host address goes in brackets, e.g."
                  + " [::1]:8080:80");
    }
    int[] guest = range(spec, guestPorts, "port");
    List<PortSpec> out = new ArrayList<>();
    if (hostPorts.isEmpty()) {
      for (int p = guest[0]; p <= guest[1]; p++) {
        out.add(new PortSpec(hostIp, 0, p, protocol));
      }
      return out;
    }
    int[] host = range(spec, hostPorts, "host port");
    int n = guest[1] - guest[0];
    if (host[1] - host[0] != n) {
      throw new InvalidPortSpecException(
          spec,
          "the host port range "
              + hostPorts
              + " and the port range "
              + guestPorts
              + " have different lengths; give ranges of the same length");
    }
    for (int i = 0; i <= n; i++) {
      out.add(new PortSpec(hostIp, host[0] + i, guest[0] + i, protocol));
    }
    return out;
  }

  /** Parses every {@code -p} value, in order. */
  public static List<PortSpec> parseAll(Collection<String> specs) {
    List<PortSpec> out = new ArrayList<>();
    for (String s : specs) {
      out.addAll(parse(s));
    }
    return out;
  }

  /**
   * {@code -P}: every EXPOSE entry of the image ("80/tcp", "53/udp", "8080", "7000-7002/tcp")
   * published on a random host port on all addresses.
   */
  public static List<PortSpec> exposed(Collection<String> exposedPorts) {
    List<PortSpec> out = new ArrayList<>();
    for (String e : exposedPorts) {
      String rest = e.trim();
      Protocol protocol = Protocol.TCP;
      int slash = rest.lastIndexOf('/');
      if (slash >= 0) {
        protocol = protocol(e, rest.substring(slash + 1));
        rest = rest.substring(0, slash);
      }
      int[] r = range(e, rest, "exposed port");
      for (int p = r[0]; p <= r[1]; p++) {
        out.add(new PortSpec("", 0, p, protocol));
      }
    }
    return out;
  }

  private static Protocol protocol(String spec, String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "tcp" -> Protocol.TCP;
      case "udp" -> Protocol.UDP;
      case "sctp" ->
          throw new InvalidPortSpecException(spec, "sctp is not supported; use tcp or udp");
      default ->
          throw new InvalidPortSpecException(
              spec, "unknown protocol '" + s + "'; use /tcp or /udp");
    };
  }

  private static int[] range(String spec, String s, String what) {
    int dash = s.indexOf('-');
    if (dash < 0) {
      int p = port(spec, s, what);
      return new int[] {p, p};
    }
    int lo = port(spec, s.substring(0, dash), what);
    int hi = port(spec, s.substring(dash + 1), what);
    if (hi < lo) {
      throw new InvalidPortSpecException(
          spec, what + " range " + s + " ends before it starts; write LOW-HIGH");
    }
    return new int[] {lo, hi};
  }

  private static int port(String spec, String s, String what) {
    if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new InvalidPortSpecException(
          spec, what + " '" + s + "' is not a number from 1 to 65535");
    }
    int p = Integer.parseInt(s);
    if (p < 1 || p > 65535) {
      throw new InvalidPortSpecException(
          spec, what + " " + p + " is out of range; use a number from 1 to 65535");
    }
    return p;
  }

  private static String ipv4(String spec, String s) {
    if (s.isEmpty()) {
      throw new InvalidPortSpecException(
          spec, "the host address before the first ':' is empty; leave it out for all addresses");
    }
    if (!Ipv4Cidr.isAddress(s)) {
      throw new InvalidPortSpecException(
          spec,
          "'"
              + s
              + "' is not an IPv4 address; put an IPv6 address in brackets, e.g. [::1]:8080:80");
    }
    // as Docker: 0.0.0.0 is every address, which DNAT matches by port alone (no daddr is 0.0.0.0)
    return s.equals("0.0.0.0") ? "" : s;
  }

  private static String ipv6(String spec, String s) {
    try {
      // ofLiteral never resolves names: only an IPv6 literal passes. Scoped (%eth0) ones do not.
      Inet6Address.ofLiteral(s);
      if (s.contains("%")) {
        throw new IllegalArgumentException(s);
      }
      return s.toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException e) {
      throw new InvalidPortSpecException(spec, "'" + s + "' is not an IPv6 address");
    }
  }
}
