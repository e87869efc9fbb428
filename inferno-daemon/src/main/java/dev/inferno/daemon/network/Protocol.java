package dev.inferno.daemon.network;

import java.util.Locale;

/** The transport protocols a port can be published with (Docker's sctp is not supported). */
public enum Protocol {
  TCP,
  UDP;

  /** The lower-case name Docker and nftables use: "tcp", "udp". */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}
