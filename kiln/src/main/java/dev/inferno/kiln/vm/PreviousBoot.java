package dev.inferno.kiln.vm;

import dev.inferno.kiln.guest.GuestTransport;
import dev.inferno.kiln.protocol.Channel;
import dev.inferno.sys.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * What one boot leaves in a state dir that the next boot on it must not read as its own: the exit
 * record (a new boot has none until it ends), the console (its INFERNO-EXIT line would be taken for
 * the new boot's), the VMM's logs and metrics, the pid file and the channel sockets. Kept in {@code
 * previous-boot/} (the last boot only) for a look after a restart.
 */
final class PreviousBoot {
  static final String DIR = "previous-boot";

  private static final List<String> KEPT =
      List.of("exit.json", "console.log", "vmm.log", "firecracker.log", "firecracker.metrics");

  private PreviousBoot() {}

  static void moveAside(VmLayout layout) throws IOException {
    Path previous = layout.dir().resolve(DIR);
    FileTrees.delete(previous);
    Files.createDirectories(previous);
    for (String name : KEPT) {
      Path f = layout.dir().resolve(name);
      if (Files.exists(f)) {
        Files.move(f, previous.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.deleteIfExists(layout.pidFile());
    Files.deleteIfExists(layout.initramfs());
    GuestTransport.VirtioSerial qemu = new GuestTransport.VirtioSerial(layout.dir());
    for (Channel channel : Channel.values()) {
      Files.deleteIfExists(qemu.listenPath(channel));
    }
  }
}
