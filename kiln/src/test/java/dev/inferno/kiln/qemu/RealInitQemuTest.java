package dev.inferno.kiln.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.LinkedGuest;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.StopEscalation;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
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
    init = TestGuest.root().resolve("build/init/init");
    Assumptions.assumeTrue(
        Files.isExecutable(init), "skipped: no real init at " + init + " (run init/build.sh)");
    Path rootfs = Files.createDirectories(shared.resolve("rootfs/bin"));
    Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
    for (String applet : new String[] {"sh", "sleep", "seq", "echo"}) {
      Files.createSymbolicLink(rootfs.resolve(applet), Path.of("busybox"));
    }
    Files.createDirectories(shared.resolve("rootfs/etc"));
    Files.writeString(shared.resolve("rootfs/etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
    Files.writeString(shared.resolve("rootfs/etc/group"), "root:x:0:\n");
    image = shared.resolve("image.ext4");
    TestGuest.run(
        shared,
        "mke2fs",
        "-q",
        "-t",
        "ext4",
        "-d",
        shared.resolve("rootfs").toString(),
        image.toString(),
        "16M");
  }

  private static VmSpec spec(Path dir, String id, String script) throws Exception {
    String cmd =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .writeValueAsString(new String[] {"/bin/sh", "-c", script});
    String run =
        """
        {"version":1,"vm_id":"%s","hostname":"%s",
         "image_config":{"Cmd":%s},
         "overrides":{"entrypoint":null,"cmd":null,"env":[],"workdir":null,"user":null},
         "root":{"image_device":"/dev/vda","writable_device":null},
         "transport":"auto","stop":{"signal":null,"timeout_secs":2},
         "log":{"mode":"block","buffer_bytes":1048576,"drain_timeout_ms":5000},
         "metrics_interval_secs":0}
        """
            .formatted(id, id, cmd);
    return new VmSpec(
        id,
        TestGuest.kernel(),
        init,
        run,
        image,
        0,
        1,
        192,
        Duration.ofSeconds(2),
        VmmKind.QEMU,
        dir.resolve(id));
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
  void logsArriveInOrderAndTheExitCodeComesOverTheExitChannel(@TempDir Path dir) throws Exception {
    RunningVm vm = supervisor().start(spec(dir, "seq1", "seq 1 2000; echo oops >&2; exit 4"));
    String expected =
        java.util.stream.IntStream.rangeClosed(1, 2000)
            .mapToObj(i -> i + "\n")
            .collect(Collectors.joining());
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
                spec(
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
  void stopKillsANonTrappingWorkloadWithItsSignal(@TempDir Path dir) throws Exception {
    RunningVm vm = supervisor().start(spec(dir, "plain1", "echo ready; exec sleep 1000"));
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
