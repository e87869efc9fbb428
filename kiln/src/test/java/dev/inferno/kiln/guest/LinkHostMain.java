package dev.inferno.kiln.guest;

import dev.inferno.kiln.logs.LogStore;
import java.nio.file.Path;

/**
 * A process that hosts one GuestLink until it is killed (for the kill -9 test). args: state dir, vm
 * id.
 */
public final class LinkHostMain {
  private LinkHostMain() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    LogStore store = LogStore.open(dir.resolve("logs"), new LogStore.Options(64 << 10, 1000, 4096));
    GuestLink link =
        GuestLink.start(
            new GuestLink.Config(
                args[1],
                new GuestTransport.VirtioSerial(dir.resolve("sock")),
                store,
                dir.resolve("exit.json"),
                null));
    System.out.println("listening " + link.socketPaths().size());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
