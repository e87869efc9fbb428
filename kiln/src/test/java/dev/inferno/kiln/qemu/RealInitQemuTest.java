package dev.inferno.kiln.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.LinkedGuest;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.StopEscalation;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU end to end with the real kernel, the real init (build/init/init) and a busybox image disk,
 * through the protocol (GuestLink): logs in the store in order, the exit code from the exit
 * channel, and stop with a trapping, a non-trapping and a stop-ignoring workload.
 */
class RealInitQemuTest {
  @TempDir static Path shared;
  static Path image;
  static Path init;

  @BeforeAll
  static void busyboxImage() throws Exception {
    init = TestGuest.realInit();
    Assumptions.assumeTrue(
        init != null, "skipped: no real init at build/init/init (run init/build.sh)");
    image = TestGuest.busyboxImage(shared, "sh", "sleep", "seq", "echo", "usleep");
  }

  /** A spec whose stop grace is 2 s: enough for a workload that ignores SIGTERM to be killed. */
  private static VmSpec spec(Path dir, String id, String script) throws Exception {
    return spec(dir, id, script, Duration.ofSeconds(2));
  }

  /**
   * A spec with a stop grace long enough that a slow emulated guest still stops itself, for the
   * tests that assert {@code GUEST_STOPPED}.
   */
  private static VmSpec stoppable(Path dir, String id, String script) throws Exception {
    return spec(dir, id, script, Duration.ofSeconds(20));
  }

  private static VmSpec spec(Path dir, String id, String script, Duration grace) throws Exception {
    return new VmSpec(
        id,
        TestGuest.kernel(),
        init,
        TestGuest.shellRunConfig(id, script),
        image,
        0,
        1,
        192,
        grace,
        VmmKind.QEMU,
        dir.resolve(id),
        null);
  }

  private static Supervisor supervisor() {
    return new Supervisor(
        Map.of(VmmKind.QEMU, new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.TCG))),
        LinkedGuest.factory());
  }

  private static String logs(RunningVm vm) throws Exception {
    return ((LinkedGuest) vm.guest())
        .logs().tail(100_000).stream()
            .filter(r -> r.stream() != LogRecord.INIT)
            .map(LogRecord::text)
            .collect(Collectors.joining());
  }

  private static void awaitLog(RunningVm vm, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!logs(vm).contains(text)) {
      assertThat(System.nanoTime()).as("waiting for '" + text + "'").isLessThan(deadline);
      assertThat(vm.exit()).as("VM ended while waiting for '" + text + "'").isNotDone();
      Thread.sleep(20);
    }
  }

  @Test
  void killingTheHostingJvmMidStreamLosesAndDuplicatesNothing(@TempDir Path dir) throws Exception {
    Path state = dir.resolve("stream1");
    Process host =
        TestGuest.startJvm(KilnHostMain.class, state.toString(), "stream", image.toString());
    String out = new String(host.getInputStream().readAllBytes());
    assertThat(host.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(out).contains("STREAMING");
    assertThat(host.exitValue()).isEqualTo(3);

    Supervisor again = supervisor();
    RunningVm vm = again.adopt(state).orElseThrow();
    assertThat(vm.process().isAlive()).as("QEMU outlived the JVM").isTrue();
    ExitRecord exit = vm.exit().get(120, TimeUnit.SECONDS);
    assertThat(exit.code()).isZero();
    assertThat(exit.source()).isEqualTo("guest");
    try (LogStore store = LogStore.open(state.resolve("logs"))) {
      String all =
          store.tail(1_000_000).stream()
              .filter(r -> r.stream() == LogRecord.STDOUT)
              .map(LogRecord::text)
              .collect(Collectors.joining());
      String expected =
          IntStream.rangeClosed(1, 3000)
              .mapToObj(i -> "line-" + i + "\n")
              .collect(Collectors.joining());
      assertThat(all).isEqualTo(expected);
    }
  }

  @Test
  void logsArriveInOrderAndTheExitCodeComesOverTheExitChannel(@TempDir Path dir) throws Exception {
    RunningVm vm = supervisor().start(spec(dir, "seq1", "seq 1 2000; echo oops >&2; exit 4"));
    String expected =
        IntStream.rangeClosed(1, 2000).mapToObj(i -> i + "\n").collect(Collectors.joining());
    // read before the VM finishes: the store closes with the session
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String seen = "";
    while (!seen.contains("oops") && System.nanoTime() < deadline) {
      seen = logs(vm);
      Thread.sleep(20);
    }
    ExitRecord exit = vm.exit().get(60, TimeUnit.SECONDS);
    assertThat(seen).isEqualTo(expected + "oops\n");
    assertThat(exit.code()).isEqualTo(4);
    assertThat(exit.source()).isEqualTo("guest");
  }

  @Test
  void stopReachesATrappingWorkload(@TempDir Path dir) throws Exception {
    RunningVm vm =
        supervisor()
            .start(
                stoppable(
                    dir,
                    "trap1",
                    "trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.1; done"));
    awaitLog(vm, "ready");
    ExitRecord exit = vm.stop();
    assertThat(vm.stopOutcome()).isEqualTo(StopEscalation.Outcome.GUEST_STOPPED);
    assertThat(exit.code()).isEqualTo(3);
    assertThat(exit.source()).isEqualTo("guest");
  }

  @Test
  void signalReachesTheWorkload(@TempDir Path dir) throws Exception {
    RunningVm vm =
        supervisor()
            .start(
                spec(
                    dir,
                    "sig1",
                    "trap 'echo got USR1' USR1; echo ready; while :; do sleep 0.1; done"));
    awaitLog(vm, "ready");
    assertThat(vm.signal(10)).isTrue();
    awaitLog(vm, "got USR1");
    assertThat(vm.signal(9)).isTrue();
    ExitRecord exit = vm.exit().get(60, TimeUnit.SECONDS);
    assertThat(exit.code()).isEqualTo(137);
    assertThat(exit.signal()).isEqualTo(9);
  }

  @Test
  void stopKillsANonTrappingWorkloadWithItsSignal(@TempDir Path dir) throws Exception {
    RunningVm vm = supervisor().start(stoppable(dir, "plain1", "echo ready; exec sleep 1000"));
    awaitLog(vm, "ready");
    ExitRecord exit = vm.stop();
    assertThat(vm.stopOutcome()).isEqualTo(StopEscalation.Outcome.GUEST_STOPPED);
    assertThat(exit.code()).isEqualTo(143);
    assertThat(exit.signal()).isEqualTo(15);
  }

  @Test
  void aWorkloadIgnoringStopIsKilledAfterTheTimeout(@TempDir Path dir) throws Exception {
    RunningVm vm =
        supervisor()
            .start(spec(dir, "deaf1", "trap '' TERM; echo ready; while :; do sleep 0.1; done"));
    awaitLog(vm, "ready");
    long t0 = System.nanoTime();
    ExitRecord exit = vm.stop();
    assertThat(vm.stopOutcome()).isEqualTo(StopEscalation.Outcome.KILLED);
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(2));
    assertThat(exit.code()).isEqualTo(137);
    assertThat(exit.reason()).contains("killed the VMM");
  }
}
