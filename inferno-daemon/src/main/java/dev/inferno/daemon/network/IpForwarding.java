package dev.inferno.daemon.network;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/** Routing between the VMs' TAPs and the host's other links needs net.ipv4.ip_forward = 1. */
public final class IpForwarding {
  static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");
  private static final Logger LOG = Logger.getLogger(IpForwarding.class.getName());

  private IpForwarding() {}

  /**
   * Turns IPv4 forwarding on (a host-wide setting, so the log says it was changed); returns whether
   * it had to change it.
   */
  public static boolean enable() throws IOException {
    return enable(IP_FORWARD);
  }

  static boolean enable(Path file) throws IOException {
    if (Files.readString(file).strip().equals("1")) {
      return false;
    }
    Files.writeString(file, "1\n");
    LOG.info(
        "set net.ipv4.ip_forward = 1 (was 0) so VMs can reach the network; the daemon's nftables"
            + " table keeps VMs from forwarding into each other");
    return true;
  }
}
