package dev.inferno.kiln.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.Drive;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.GuestSession;
import dev.inferno.kiln.vm.LinkedGuest;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.StopEscalation;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.TmpfsMount;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmStatsSnapshot;
import dev.inferno.kiln.vm.VmmKind;
import dev.inferno.kiln.vm.WritableDisk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Services on a real guest (QEMU TCG, the real kernel and init): pause/resume through QMP, a second
 * boot on the same state dir (the writable disk and the log store carry over), and the guest device
 * each drive becomes.
 */
class RealInitServicesQemuTest {
  @TempDir static Path shared;
  static Path image;
  static Path init;

  @BeforeAll
  static void busyboxImage() throws Exception {
    init = TestGuest.realInit();
    Assumptions.assumeTrue(
        init != null, "skipped: no real init at build/init/init (run init/build.sh)");
    image = TestGuest.busyboxImage(shared, "sh", "sleep", "echo", "usleep", "cat");
  }

  private static VmSpec spec(Path dir, String id, String script, long writable) throws Exception {
    return new VmSpec(
        id,
        TestGuest.kernel(),
        init,
        TestGuest.shellRunConfig(id, script),
        image,
        writable,
        1,
        192,
        // a stop's grace long enough that a slow emulated guest still stops itself (the pause
        // test asserts GUEST_STOPPED); none of these workloads ignores SIGTERM
        Duration.ofSeconds(20),
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
    return text(((LinkedGuest) vm.guest()).logs().tail(100_000));
  }

  private static String text(List<LogRecord> records) {
    return records.stream()
        .filter(r -> r.stream() != LogRecord.INIT)
        .map(LogRecord::text)
        .collect(Collectors.joining());
  }

  private static String awaitLog(RunningVm vm, Pattern p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (true) {
      Matcher m = p.matcher(logs(vm));
      if (m.find()) {
        return m.group();
      }
      assertThat(System.nanoTime()).as("waiting for " + p).isLessThan(deadline);
      assertThat(vm.exit()).as("VM ended while waiting for " + p).isNotDone();
      Thread.sleep(50);
    }
  }

  private static int ticks(RunningVm vm) throws Exception {
    return (int) logs(vm).lines().filter(l -> l.startsWith("tick ")).count();
  }

  @Test
  void pauseStopsTheGuestAndResumeLetsItGoOn(@TempDir Path dir) throws Exception {
    Supervisor sup = supervisor();
    RunningVm vm =
        sup.start(
            spec(
                dir,
                "pause1",
                "i=0; while :; do echo tick $i; i=$((i+1)); usleep 100000; done",
                0));
    awaitLog(vm, Pattern.compile("tick 3\n"));
    vm.pause();
    assertThat(vm.paused()).isTrue();
    VmStatsSnapshot stats = vm.stats();
    assertThat(stats.paused()).isTrue();
    assertThat(stats.vmm().cpuNanos()).as("TCG burnt host CPU to boot").isPositive();
    assertThat(stats.vmm().rssBytes()).isGreaterThan(16L << 20);
    assertThat(stats.memoryLimitBytes()).isEqualTo(192L << 20);
    Qemu qemu = new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.TCG));
    assertThat(qemu.paused(vm.spec(), vm.spec().layout(), vm.process()))
        .as("QMP query-status")
        .isTrue();
    Thread.sleep(500); // what the guest wrote before the pause may still be on its way
    int atPause = ticks(vm);
    Thread.sleep(2000); // 20 ticks' worth
    assertThat(ticks(vm)).as("no output while paused").isEqualTo(atPause);
    // a kiln that comes back finds it paused (without channels: this JVM holds the log store)
    Supervisor again =
        new Supervisor(
            Map.of(VmmKind.QEMU, new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.TCG))),
            GuestSession.NO_CHANNELS);
    RunningVm adopted = again.adopt(vm.spec().layout().dir()).orElseThrow();
    assertThat(adopted.paused()).isTrue();

    vm.resume();
    assertThat(vm.paused()).isFalse();
    awaitLog(vm, Pattern.compile("tick " + (atPause + 5) + "\n"));

    vm.pause();
    ExitRecord exit = vm.stop();
    // resumed first: init heard the stop and the shell died of SIGTERM, no SIGKILL to QEMU
    assertThat(vm.stopOutcome()).isEqualTo(StopEscalation.Outcome.GUEST_STOPPED);
    assertThat(exit.code()).isEqualTo(143);
    // the second supervisor saw the same end (and is done writing in the state dir)
    assertThat(adopted.exit().get(30, TimeUnit.SECONDS).code()).isEqualTo(143);
  }

  @Test
  void aSecondBootKeepsTheWritableDiskAndContinuesTheLogs(@TempDir Path dir) throws Exception {
    String script =
        "if [ -f /kept ]; then echo \"found $(cat /kept)\"; exit 3;"
            + " else echo boot-1 > /kept; echo wrote; fi";
    VmSpec spec = spec(dir, "again1", script, 64L << 20);
    Supervisor sup = supervisor();
    RunningVm first = sup.start(spec);
    ExitRecord one = first.exit().get(120, TimeUnit.SECONDS);
    assertThat(one.code()).isZero();

    RunningVm second = sup.startAgain(spec);
    ExitRecord two = second.exit().get(120, TimeUnit.SECONDS);
    assertThat(two.code()).as("the file written in boot 1 is there").isEqualTo(3);
    assertThat(two.source()).isEqualTo("guest");
    Path state = spec.layout().dir();
    assertThat(ExitRecord.read(state.resolve("previous-boot/exit.json"))).isEqualTo(one);
    assertThat(ExitRecord.read(spec.layout().exitRecord())).isEqualTo(two);
    assertThat(Files.readString(spec.layout().console())).doesNotContain("\"code\":0");
    try (LogStore store = LogStore.openReadOnly(spec.layout().logsDir())) {
      List<LogRecord> all = store.tail(1000);
      assertThat(text(all)).isEqualTo("wrote\nfound boot-1\n");
      assertThat(all.stream().map(LogRecord::bootId).distinct().count())
          .as("two boots in one store")
          .isEqualTo(2);
    }
    // a running VM cannot be booted again
    RunningVm third = sup.startAgain(spec(dir, "again1", "sleep 100", 64L << 20));
    try {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> sup.startAgain(spec))
          .hasMessageContaining("is still running");
    } finally {
      third.kill();
      third.exit().get(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void drivesBecomeTheDevicesTheRunConfigNames(@TempDir Path dir) throws Exception {
    // sizes tell the disks apart: image 16 MiB, writable 64, then 40 and 24 (read-only)
    Path a = dir.resolve("a.ext4");
    Path b = dir.resolve("b.ext4");
    WritableDisk.create(a, 40L << 20);
    WritableDisk.create(b, 24L << 20);
    VmSpec spec =
        spec(
                dir,
                "drives1",
                "for d in vda vdb vdc vdd; do echo $d $(cat /sys/block/$d/size)"
                    + " $(cat /sys/block/$d/ro); done",
                64L << 20)
            .withStorage(
                List.of(new Drive(a, "/a", false), new Drive(b, "/b", true)), List.of(), false);
    RunningVm vm = supervisor().start(spec);
    String out = awaitLogOrExit(vm);
    assertThat(out)
        .contains("vda " + (16L << 11) + " 1\n")
        .contains("vdb " + (64L << 11) + " 0\n")
        .contains("vdc " + (40L << 11) + " 0\n")
        .contains("vdd " + (24L << 11) + " 1\n");
  }

  @Test
  void volumesAreMountedReadWriteAndReadOnlyAndOutliveTheVm(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data.ext4");
    Path conf = dir.resolve("conf.ext4");
    WritableDisk.create(data, 32L << 20);
    WritableDisk.create(conf, 32L << 20);
    List<Drive> drives =
        List.of(new Drive(data, "/srv/data", false), new Drive(conf, "/conf", true));
    VmSpec writer =
        spec(
                dir,
                "vol1",
                "echo kept > /srv/data/f && cat /srv/data/f;"
                    + " (echo x > /conf/f) 2>/dev/null && echo conf-writable || echo conf-ro;"
                    + " (echo x > /rootfile) 2>/dev/null && echo root-writable || echo root-ro;"
                    + " echo t > /tmp/t && echo tmp-ok;"
                    + " echo c > /cache/c && echo cache-ok",
                64L << 20)
            .withStorage(drives, List.of(new TmpfsMount("/cache", 1L << 20, null)), true);
    Supervisor sup = supervisor();
    RunningVm one = sup.start(writer);
    String out = awaitLogOrExit(one);
    assertThat(one.exit().get().code()).as(out).isZero();
    assertThat(out).isEqualTo("kept\nconf-ro\nroot-ro\ntmp-ok\ncache-ok\n");
    assertThat(writer.layout().writableDisk())
        .as("a read-only root has no writable disk")
        .doesNotExist();

    // another VM gets the same volume: what the first wrote is there
    VmSpec reader =
        spec(dir, "vol2", "cat /srv/data/f", 64L << 20)
            .withStorage(List.of(drives.getFirst()), List.of(), false);
    RunningVm two = sup.start(reader);
    assertThat(awaitLogOrExit(two)).isEqualTo("kept\n");
  }

  /** The logs once the VM is gone (read from the store on disk). */
  private static String awaitLogOrExit(RunningVm vm) throws Exception {
    vm.exit().get(120, TimeUnit.SECONDS);
    try (LogStore store = LogStore.openReadOnly(vm.spec().layout().logsDir())) {
      return text(store.tail(1000));
    }
  }
}
