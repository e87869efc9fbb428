package dev.inferno.kiln.vm;

import java.nio.file.Path;
import java.util.Map;

/** Where the host side of the guest channels listens (docs/PROTOCOL.md §1), per VMM. */
public sealed interface GuestTransport {

  /**
   * QEMU: one unix socket per channel ("logs", "exit", "control", "metrics"); QEMU's chardevs
   * connect to them, so the host listens on all four, control included.
   */
  record VirtioSerial(Map<String, Path> sockets) implements GuestTransport {}

  /**
   * Firecracker hybrid vsock: listen on {@code <udsPath>_<port>} for guest-initiated channels; dial
   * {@code udsPath} with {@code CONNECT <port>} for control. Listeners must be connectable by the
   * VMM's uid/gid.
   */
  record HybridVsock(Path udsPath, Map<String, Integer> ports, int uid, int gid)
      implements GuestTransport {}
}
