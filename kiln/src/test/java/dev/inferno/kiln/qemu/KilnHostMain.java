package dev.inferno.kiln.qemu;

import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.GuestSession;
import dev.inferno.kiln.vm.LinkedGuest;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A process hosting kiln, for the restart test: starts a VM whose guest hangs, waits until it runs,
 * then dies abruptly (Runtime.halt: no shutdown hooks, like a SIGKILL).
 */
public final class KilnHostMain {
  private KilnHostMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 1 && args[1].equals("stream")) {
      stream(Path.of(args[0]), Path.of(args[2]));
      return;
    }
    Path state = Path.of(args[0]);
    Supervisor sup =
        new Supervisor(
            Map.of(VmmKind.QEMU, new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.TCG))),
            GuestSession.NO_CHANNELS);
    VmSpec spec =
        new VmSpec(
            "hostdeath",
            TestGuest.kernel(),
            TestGuest.init(),
            TestGuest.runConfig("hostdeath", "hang", 0),
            null,
            0,
            1,
            128,
            Duration.ofSeconds(1),
            VmmKind.QEMU,
            state,
            null);
    RunningVm vm = sup.start(spec);
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (Files.exists(spec.layout().console())
          && Files.readString(spec.layout().console()).contains("test-init: hanging")) {
        System.out.println("RUNNING " + vm.process().pid());
        System.out.flush();
        Runtime.getRuntime().halt(3);
      }
      Thread.sleep(20);
    }
    System.out.println("guest never came up");
    Runtime.getRuntime().halt(4);
  }

  /** The real init streams a counted sequence; this JVM dies once line 300 is durable. */
  static void stream(Path state, Path image) throws Exception {
    Supervisor sup =
        new Supervisor(
            Map.of(VmmKind.QEMU, new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.TCG))),
            LinkedGuest.factory());
    VmSpec spec =
        new VmSpec(
            "stream1",
            TestGuest.kernel(),
            TestGuest.realInit(),
            TestGuest.shellRunConfig(
                "stream1",
                "i=1; while [ $i -le 3000 ]; do echo line-$i; i=$((i+1)); usleep 1000; done"),
            image,
            0,
            1,
            192,
            Duration.ofSeconds(2),
            VmmKind.QEMU,
            state,
            null);
    RunningVm vm = sup.start(spec);
    LogStore logs = ((LinkedGuest) vm.guest()).logs();
    long deadline = System.nanoTime() + 90_000_000_000L;
    while (System.nanoTime() < deadline) {
      boolean seen = logs.tail(5).stream().anyMatch(r -> r.text().contains("line-300\n"));
      if (seen || logs.endOrdinal() > 300) {
        System.out.println("STREAMING " + vm.process().pid() + " " + logs.endOrdinal());
        System.out.flush();
        Runtime.getRuntime().halt(3);
      }
      Thread.sleep(5);
    }
    System.out.println("never streamed");
    Runtime.getRuntime().halt(4);
  }
}
