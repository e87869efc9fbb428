package dev.inferno.model;

/**
 * One published port as bound: the host address (empty = all of the host's addresses), the host
 * port (the real one, also when the kernel picked it), the guest's port and "tcp" or "udp". The one
 * owner of how Docker shows it ({@link #toString}: {@code 0.0.0.0:8080->80/tcp}).
 *
 * @param hostIp host address, "" for all; an IPv6 one without brackets
 * @param hostPort host port, or 0 while not bound yet
 * @param port the guest's port
 * @param protocol tcp or udp
 */
public record PublishedPort(String hostIp, int hostPort, int port, String protocol) {
  public PublishedPort {
    hostIp = hostIp == null ? "" : hostIp;
  }

  /** The host address as Docker prints it: 0.0.0.0 for all, IPv6 in brackets. */
  public String displayHostIp() {
    if (hostIp.isEmpty()) {
      return "0.0.0.0";
    }
    return hostIp.contains(":") ? "[" + hostIp + "]" : hostIp;
  }

  /** The guest side, as {@code inferno port} keys it: {@code 80/tcp}. */
  public String privatePort() {
    return port + "/" + protocol;
  }

  /** The host side, as {@code inferno port} prints it: {@code 0.0.0.0:8080}. */
  public String hostSide() {
    return displayHostIp() + ":" + hostPort;
  }

  /** Docker's PORTS column entry: {@code 0.0.0.0:8080->80/tcp}. */
  @Override
  public String toString() {
    return hostSide() + "->" + privatePort();
  }
}
