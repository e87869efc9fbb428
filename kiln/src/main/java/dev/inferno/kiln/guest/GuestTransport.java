package dev.inferno.kiln.guest;

import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.protocol.GuestPorts;
import java.nio.file.Path;

/** How the guest's channels reach kiln (PROTOCOL.md §1). */
public sealed interface GuestTransport {

  /** The unix socket kiln listens on for a guest-initiated channel. */
  Path listenPath(Channel channel);

  /**
   * QEMU virtio-serial: kiln listens on {@code dir/logs.sock}, {@code exit.sock}, {@code
   * control.sock}, {@code metrics.sock} and {@code session.sock}; QEMU's socket chardevs ({@code
   * server=off,reconnect=1}) connect to them, one virtserialport per channel named {@link
   * Channel#portName()}.
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
   * and session it dials {@code udsPath} and sends {@code CONNECT <port>}.
   *
   * @param owner the jailed Firecracker's uid/gid, which must connect to the listeners; or null
   */
  record HybridVsock(Path udsPath, GuestPorts ports, SocketOwner owner) implements GuestTransport {
    public HybridVsock(Path udsPath) {
      this(udsPath, GuestPorts.DEFAULT, null);
    }

    public HybridVsock(Path udsPath, GuestPorts ports) {
      this(udsPath, ports, null);
    }

    @Override
    public Path listenPath(Channel channel) {
      if (channel.hostInitiated()) {
        throw new IllegalArgumentException(
            "the "
                + channel.name().toLowerCase(java.util.Locale.ROOT)
                + " channel is host-initiated on vsock");
      }
      return udsPath.resolveSibling(udsPath.getFileName() + "_" + ports.of(channel));
    }
  }
}
