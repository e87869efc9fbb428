package dev.inferno.kiln.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.GuestSession;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.SpecJson;
import dev.inferno.kiln.vm.StopEscalation;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.VmLayout;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmKind;
import dev.inferno.kiln.vm.VmmProcess;
import dev.inferno.kiln.vm.WritableDisk;
import dev.inferno.sys.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real QEMU (TCG), real guest kernel, the stand-in init. Three boots, each ~1.5 s. */
class QemuBootTest {

  private static Supervisor supervisor() {
    return new Supervisor(
        Map.of(VmmKind.QEMU, new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.TCG))),
        GuestSession.NO_CHANNELS);
  }

  private static VmSpec spec(
      Path state, String id, String mode, int code, Path image, long writable) throws Exception {
    return new VmSpec(
        id,
        TestGuest.kernel(),
        TestGuest.init(),
        TestGuest.runConfig(id, mode, code),
        image,
        writable,
        1,
        128,
        Duration.ofSeconds(1),
        VmmKind.QEMU,
        state,
        null);
  }

  private static void awaitConsole(VmLayout layout, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (Files.exists(layout.console()) && Files.readString(layout.console()).contains(text)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError(
        "console never showed '" + text + "': " + Files.readString(layout.console()));
  }

  @Test
  void guestBootsReportsAndQemuExitsByItself(@TempDir Path dir) throws Exception {
    Path image = dir.resolve("image.ext4");
    WritableDisk.create(image, 16L << 20);
    VmSpec spec = spec(dir.resolve("vm"), "boot1", "exit", 3, image, 16L << 20);
    RunningVm vm = supervisor().start(spec);
    VmLayout layout = spec.layout();
    assertThat(vm.process().isAlive()).isTrue();
    assertThat(VmmProcess.read(layout.pidFile())).isEqualTo(vm.process());

    ExitRecord exit = vm.exit().get(60, TimeUnit.SECONDS);

    assertThat(exit.code()).isEqualTo(3);
    assertThat(exit.source()).isEqualTo("console");
    assertThat(ExitRecord.read(layout.exitRecord())).isEqualTo(exit);
    String console = Files.readString(layout.console());
    assertThat(console)
        .contains("test-init: hello")
        .contains("test-init: vda=1 vdb=1")
        .contains("test-init: port dev.inferno.logs")
        .contains("test-init: port dev.inferno.exit")
        .contains("test-init: port dev.inferno.control")
        .contains("test-init: port dev.inferno.metrics");
    // quiet: the kernel's boot chatter stays off the console
    assertThat(console).doesNotContain("Linux version");
    assertThat(vm.process().isAlive()).isFalse();
    // the VMM's leftovers are gone, the record stays
    for (String ch : List.of("logs", "exit", "control", "metrics")) {
      assertThat(layout.channelSocket(ch)).doesNotExist();
    }
    assertThat(layout.pidFile()).doesNotExist();
    assertThat(layout.spec()).exists();
    assertThat(layout.console()).exists();
  }

  @Test
  void stopKillsAGuestThatIgnoresIt(@TempDir Path dir) throws Exception {
    VmSpec spec = spec(dir.resolve("vm"), "hang1", "hang", 0, null, 0);
    RunningVm vm = supervisor().start(spec);
    awaitConsole(spec.layout(), "test-init: hanging");

    long t0 = System.nanoTime();
    ExitRecord exit = vm.stop();

    assertThat(vm.stopOutcome()).isEqualTo(StopEscalation.Outcome.KILLED);
    // no guest channel and no QEMU shutdown: the grace (1 s) is not waited for nothing
    assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(15));
    assertThat(exit.code()).isEqualTo(137);
    assertThat(exit.signal()).isEqualTo(9);
    assertThat(exit.source()).isEqualTo("host");
    assertThat(exit.reason()).contains("killed the VMM");
    assertThat(vm.process().isAlive()).isFalse();
    assertThat(ExitRecord.read(spec.layout().exitRecord())).isEqualTo(exit);
  }

  @Test
  void killEndsTheVmAtOnceAndRecords137(@TempDir Path dir) throws Exception {
    VmSpec spec = spec(dir.resolve("vm"), "kill1", "hang", 0, null, 0);
    RunningVm vm = supervisor().start(spec);
    awaitConsole(spec.layout(), "test-init: hanging");

    vm.kill();
    ExitRecord exit = vm.exit().get(30, TimeUnit.SECONDS);

    assertThat(vm.stopOutcome()).as("no stop was asked for").isNull();
    assertThat(exit.code()).isEqualTo(137);
    assertThat(exit.signal()).isEqualTo(9);
    assertThat(exit.source()).isEqualTo("host");
    assertThat(exit.reason()).isEqualTo("killed (SIGKILL to the VMM)");
    assertThat(vm.process().isAlive()).isFalse();
    assertThat(ExitRecord.read(spec.layout().exitRecord())).isEqualTo(exit);
  }

  @Test
  void vmOutlivesItsHostProcessAndIsAdoptedAgain(@TempDir Path dir) throws Exception {
    Path state = dir.resolve("vm");
    Process host = TestGuest.startJvm(KilnHostMain.class, state.toString());
    String out = new String(host.getInputStream().readAllBytes());
    assertThat(host.waitFor(90, TimeUnit.SECONDS)).isTrue();
    assertThat(out).contains("RUNNING");
    assertThat(host.exitValue()).isEqualTo(3);

    VmLayout layout = new VmLayout(state);
    VmmProcess orphan = VmmProcess.read(layout.pidFile());
    assertThat(orphan.isAlive()).as("QEMU survives its host JVM").isTrue();

    Supervisor again = supervisor();
    RunningVm vm = again.adopt(state).orElseThrow();
    assertThat(vm.process()).isEqualTo(orphan);
    assertThat(vm.exit()).isNotDone();
    assertThat(again.get("hostdeath")).containsSame(vm);

    ExitRecord exit = vm.stop();
    assertThat(vm.stopOutcome()).isEqualTo(StopEscalation.Outcome.KILLED);
    assertThat(exit.code()).isEqualTo(137);
    assertThat(orphan.isAlive()).isFalse();
    // finished VMs are not adopted twice
    assertThat(again.adopt(state)).isEmpty();
  }

  @Test
  void aVmmThatDiesBeforeTheGuestStartsLeavesItsOwnWordsInTheExitRecord(@TempDir Path dir)
      throws Exception {
    // real QEMU, given an argument it rejects; the pause keeps it alive past kiln's start
    Path qemu = dir.resolve("qemu-rejecting");
    Files.writeString(
        qemu, "#!/bin/sh\nsleep 0.5\nexec qemu-system-x86_64 \"$@\" -no-such-option\n");
    Files.setPosixFilePermissions(qemu, PosixFilePermissions.fromString("rwxr-xr-x"));
    Supervisor supervisor =
        new Supervisor(
            Map.of(VmmKind.QEMU, new Qemu(new Qemu.Config(qemu.toString(), Qemu.Accel.TCG))),
            GuestSession.NO_CHANNELS);
    VmSpec spec = spec(dir.resolve("vm"), "dies1", "exit", 0, null, 0);

    ExitRecord exit = supervisor.start(spec).exit().get(30, TimeUnit.SECONDS);

    assertThat(exit.hasCode()).isFalse();
    assertThat(exit.reason())
        .startsWith("the VMM exited before the guest started: ")
        .contains("-no-such-option: invalid option");
    assertThat(ExitRecord.read(spec.layout().exitRecord())).isEqualTo(exit);
  }

  @Test
  void aVmmThatVanishedWhileNobodyWatchedIsRecordedAsExited(@TempDir Path dir) throws Exception {
    VmSpec spec = spec(dir.resolve("vm"), "gone1", "hang", 0, null, 0);
    VmLayout layout = spec.layout();
    Files.createDirectories(layout.dir());
    SpecJson.write(spec, layout.spec());
    // a "VMM" that a dead kiln left behind, which then died too
    Process p = new ProcessBuilder("sleep", "30").start();
    VmmProcess vmm = VmmProcess.of(VmmKind.QEMU, p.pid());
    vmm.write(layout.pidFile());
    Processes.kill(p.pid(), Processes.SIGKILL);
    p.waitFor();
    Files.writeString(layout.channelSocket("logs"), "stale");

    List<RunningVm> all = supervisor().adoptAll(layout.dir().getParent());
    assertThat(all).hasSize(1);
    Optional<RunningVm> adopted = Optional.of(all.getFirst());

    ExitRecord exit = adopted.orElseThrow().exit().get(5, TimeUnit.SECONDS);
    assertThat(exit.code()).isEqualTo(ExitRecord.NO_REPORT_CODE);
    assertThat(exit.reason()).contains("exited while kiln was not running");
    assertThat(layout.channelSocket("logs")).doesNotExist();
    assertThat(layout.pidFile()).doesNotExist();
    // a finished VM is not adopted again
    assertThat(supervisor().adoptAll(layout.dir().getParent())).isEmpty();
  }
}
