package dev.inferno.kiln.guest;

import dev.inferno.kiln.protocol.Channel;
import java.nio.file.Path;

/** How the guest's channels reach kiln (PROTOCOL.md §1). */
public sealed interface GuestTransport {

  /** The unix socket kiln listens on for a guest-initiated channel. */
  Path listenPath(Channel channel);

  /**
   * QEMU virtio-serial: kiln listens on {@code dir/logs.sock}, {@code exit.sock}, {@code
   * control.sock} and {@code metrics.sock}; QEMU's socket chardevs ({@code server=off,reconnect=1})
   * connect to them, one virtserialport per channel named {@link Channel#portName()}.
   */
  record VirtioSerial(Path dir) implements GuestTransport {
    @Override
    public Path listenPath(Channel channel) {
      return dir.resolve(socketName(channel));
    }

    /** The socket file name of a channel, e.g. {@code logs.sock}. */
    public static String socketName(Channel channel) {
      return channel.name().toLowerCase(java.util.Locale.ROOT) + ".sock";
    }
  }

  /**
   * Firecracker hybrid vsock with the given {@code uds_path} (as seen by kiln, i.e. inside the
   * jail's root): kiln listens on {@code <udsPath>_<port>} for logs, exit and metrics; for control
   * it dials {@code udsPath} and sends {@code CONNECT <port>}.
   */
  record HybridVsock(Path udsPath, Ports ports) implements GuestTransport {
    public HybridVsock(Path udsPath) {
      this(udsPath, Ports.defaults());
    }

    @Override
    public Path listenPath(Channel channel) {
      if (channel == Channel.CONTROL) {
        throw new IllegalArgumentException("the control channel is host-initiated on vsock");
      }
      return udsPath.resolveSibling(udsPath.getFileName() + "_" + ports.of(channel));
    }
  }

  /** The vsock ports of the channels (run.json {@code ports}). */
  record Ports(int logs, int exit, int metrics, int control) {
    public static Ports defaults() {
      return new Ports(
          Channel.LOGS.defaultVsockPort(),
          Channel.EXIT.defaultVsockPort(),
          Channel.METRICS.defaultVsockPort(),
          Channel.CONTROL.defaultVsockPort());
    }

    public int of(Channel c) {
      return switch (c) {
        case LOGS -> logs;
        case EXIT -> exit;
        case METRICS -> metrics;
        case CONTROL -> control;
      };
    }
  }
}
