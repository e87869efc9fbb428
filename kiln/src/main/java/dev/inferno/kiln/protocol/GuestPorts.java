package dev.inferno.kiln.protocol;

/**
 * The vsock ports of the channels (PROTOCOL.md §1; run config {@code ports}). The one place the
 * host reads them from: the run config carries them to init, Firecracker's listeners use them.
 */
public record GuestPorts(int logs, int exit, int metrics, int control, int session) {
  /** The ports of §1's table. */
  public static final GuestPorts DEFAULT =
      new GuestPorts(
          Channel.LOGS.defaultVsockPort(),
          Channel.EXIT.defaultVsockPort(),
          Channel.METRICS.defaultVsockPort(),
          Channel.CONTROL.defaultVsockPort(),
          Channel.SESSION.defaultVsockPort());

  public GuestPorts {
    for (int p : new int[] {logs, exit, metrics, control, session}) {
      if (p < 0) {
        throw new IllegalArgumentException("a vsock port must not be negative, not " + p);
      }
    }
  }

  /** The ports of a config without a session port (before extension 1): the default one. */
  public GuestPorts(int logs, int exit, int metrics, int control) {
    this(logs, exit, metrics, control, Channel.SESSION.defaultVsockPort());
  }

  public int of(Channel c) {
    return switch (c) {
      case LOGS -> logs;
      case EXIT -> exit;
      case METRICS -> metrics;
      case CONTROL -> control;
      case SESSION -> session;
    };
  }
}
