package dev.inferno.daemon.network;

import dev.inferno.model.PublishedPort;
import java.util.Locale;

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
    return toModel().displayHostIp();
  }

  /** The API's form (which owns how Docker shows a port). */
  public PublishedPort toModel() {
    return new PublishedPort(hostIp, hostPort, guestPort, protocol.id());
  }

  public static PortSpec fromModel(PublishedPort p) {
    return new PortSpec(
        p.hostIp(),
        p.hostPort(),
        p.port(),
        Protocol.valueOf(p.protocol().toUpperCase(Locale.ROOT)));
  }

  @Override
  public String toString() {
    return toModel().toString();
  }
}
