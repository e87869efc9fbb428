package dev.inferno.kiln.protocol;

/** The channels of PROTOCOL.md §1: their ids, default vsock ports and virtio-serial port names. */
public enum Channel {
  LOGS(1, 10000, "dev.inferno.logs"),
  EXIT(2, 10001, "dev.inferno.exit"),
  CONTROL(3, 10003, "dev.inferno.control"),
  METRICS(4, 10002, "dev.inferno.metrics"),
  SESSION(5, 10004, "dev.inferno.session");

  private final int id;
  private final int defaultVsockPort;
  private final String portName;

  Channel(int id, int defaultVsockPort, String portName) {
    this.id = id;
    this.defaultVsockPort = defaultVsockPort;
    this.portName = portName;
  }

  /** The id carried in HELLO. */
  public int id() {
    return id;
  }

  public int defaultVsockPort() {
    return defaultVsockPort;
  }

  /** The virtio-serial port name (QEMU {@code virtserialport,name=...}). */
  public String portName() {
    return portName;
  }

  /**
   * Whether kiln opens the channel on vsock (it dials {@code CONNECT <port>} through Firecracker)
   * rather than listening on {@code <uds_path>_<port>} for the guest.
   */
  public boolean hostInitiated() {
    return this == CONTROL || this == SESSION;
  }

  /** The channel with this HELLO id, or null. */
  public static Channel ofId(int id) {
    for (Channel c : values()) {
      if (c.id == id) {
        return c;
      }
    }
    return null;
  }
}
