package dev.inferno.daemon.network;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The host's IPv4 routes, read from /proc/net/route (no exec, and the format has been stable for
 * decades), so the address pool can be checked against them at daemon start.
 */
public final class HostRoutes {
  public static final Path PROC_NET_ROUTE = Path.of("/proc/net/route");

  private HostRoutes() {}

  /** One route: where it goes and through which device. */
  public record Route(String device, Ipv4Cidr destination) {}

  public static List<Route> read() throws IOException {
    return parse(Files.readString(PROC_NET_ROUTE));
  }

  /**
   * Parses /proc/net/route: a header line, then whitespace-separated fields Iface, Destination,
   * Gateway, Flags, RefCnt, Use, Metric, Mask, ... with addresses as 8 hex digits in host (little
   * endian) byte order.
   */
  public static List<Route> parse(String text) {
    List<Route> routes = new ArrayList<>();
    List<String> lines = text.lines().toList();
    for (int i = 1; i < lines.size(); i++) {
      String[] f = lines.get(i).trim().split("\\s+");
      if (f.length < 8) {
        continue;
      }
      int dest = Integer.reverseBytes(Integer.parseUnsignedInt(f[1], 16));
      int mask = Integer.reverseBytes(Integer.parseUnsignedInt(f[7], 16));
      routes.add(new Route(f[0], new Ipv4Cidr(dest, Integer.bitCount(mask))));
    }
    return routes;
  }
}
