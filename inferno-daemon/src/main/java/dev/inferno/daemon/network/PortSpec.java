package dev.inferno.daemon.network;

/**
 * One published port: host address (empty = all of the host's addresses), host port (0 = let the
 * kernel pick one), the guest's port and the protocol. Shown the way Docker shows it, e.g. {@code
 * 0.0.0.0:8080->80/tcp}.
 */
public record PortSpec(String hostIp, int hostPort, int guestPort, Protocol protocol) {
  public PortSpec {
    if (hostPort < 0 || hostPort > 65535 || guestPort < 1 || guestPort > 65535) {
      throw new IllegalArgumentException("port out of range: " + hostPort + ":" + guestPort);
    }
  }

  /** Whether it is published on every host address rather than one. */
  public boolean allAddresses() {
    return hostIp.isEmpty();
  }

  /** Whether the host port is left to the kernel. */
  public boolean randomHostPort() {
    return hostPort == 0;
  }

  /** The same publication with the host port the kernel actually gave. */
  public PortSpec withHostPort(int port) {
    return new PortSpec(hostIp, port, guestPort, protocol);
  }

  /** The host address as Docker prints it: 0.0.0.0 for all, IPv6 in brackets. */
  public String displayHostIp() {
    if (hostIp.isEmpty()) {
      return "0.0.0.0";
    }
    return hostIp.contains(":") ? "[" + hostIp + "]" : hostIp;
  }

  @Override
  public String toString() {
    return displayHostIp() + ":" + hostPort + "->" + guestPort + "/" + protocol.id();
  }
}
