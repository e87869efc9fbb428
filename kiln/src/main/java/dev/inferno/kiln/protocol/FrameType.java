package dev.inferno.kiln.protocol;

/** The frame types of PROTOCOL.md §3, with their wire codes. */
public enum FrameType {
  HELLO(0x01),
  LOG(0x02),
  ACK(0x03),
  EXIT(0x04),
  EXIT_ACK(0x05),
  CONTROL(0x06),
  CONTROL_REPLY(0x07),
  METRICS(0x08),
  OPEN(0x09),
  STARTED(0x0A),
  DATA(0x0B),
  EOF(0x0C),
  WINDOW(0x0D),
  RESIZE(0x0E),
  SIGNAL(0x0F),
  CLOSED(0x10);

  private final int code;

  FrameType(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The type with this wire code, or null when this version of kiln does not know it. */
  public static FrameType ofCode(int code) {
    for (FrameType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    return null;
  }
}
