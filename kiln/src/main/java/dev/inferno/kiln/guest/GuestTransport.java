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
   * Who must be able to connect to the listening sockets (the jailed VMM's uid/gid), or null when
   * the VMM runs as kiln's user.
   */
  default SocketOwner owner() {
    return null;
  }

  /**
   * Firecracker hybrid vsock with the given {@code uds_path} (as seen by kiln, i.e. inside the
   * jail's root): kiln listens on {@code <udsPath>_<port>} for logs, exit and metrics; for control
   * it dials {@code udsPath} and sends {@code CONNECT <port>}.
   *
   * @param owner the jailed Firecracker's uid/gid, which must connect to the listeners; or null
   */
  record HybridVsock(Path udsPath, Ports ports, SocketOwner owner) implements GuestTransport {
    public HybridVsock(Path udsPath) {
      this(udsPath, Ports.defaults(), null);
    }

    public HybridVsock(Path udsPath, Ports ports) {
      this(udsPath, ports, null);
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

    /** The defaults with run.json's {@code ports} overrides (channel name → port). */
    public static Ports withOverrides(java.util.Map<String, Integer> overrides) {
      Ports d = defaults();
      return new Ports(
          overrides.getOrDefault("logs", d.logs),
          overrides.getOrDefault("exit", d.exit),
          overrides.getOrDefault("metrics", d.metrics),
          overrides.getOrDefault("control", d.control));
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
