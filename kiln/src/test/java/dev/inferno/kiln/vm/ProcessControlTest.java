package dev.inferno.kiln.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.kiln.guest.GuestTransport;
import dev.inferno.sys.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Detached launch and stop escalation against real processes (a shell stands in for a VMM). */
class ProcessControlTest {

  private static String statField(long pid, int field) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[field - 3];
  }

  private static VmmProcess launch(Path dir, String script) throws Exception {
    long pid = DetachedLauncher.launch(List.of("sh", "-c", script), dir.resolve("vmm.log"), dir);
    VmmProcess p = VmmProcess.of(VmmKind.QEMU, pid);
    // the pid is known before the script runs: wait until its traps are set
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!Files.readString(dir.resolve("vmm.log")).contains("ready")
        && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    return p;
  }

  @Test
  void launchedProgramIsDetachedAndTheRecordedPidIsTheProgram(@TempDir Path dir) throws Exception {
    VmmProcess p = launch(dir, "echo ready; echo started; exec sleep 60");
    try {
      assertThat(p.isAlive()).isTrue();
      // exec'd: the pid we recorded is sleep itself (once sh got as far as its exec: "ready" is
      // printed before it, and a loaded host can be slow to get there)
      Path comm = Path.of("/proc/" + p.pid() + "/comm");
      long execDeadline = System.nanoTime() + 5_000_000_000L;
      while (!Files.readString(comm).strip().equals("sleep") && System.nanoTime() < execDeadline) {
        Thread.sleep(5);
      }
      assertThat(Files.readString(Path.of("/proc/" + p.pid() + "/comm")).strip())
          .isEqualTo("sleep");
      // its own session (field 6) and process group (field 5): our signals do not reach it
      assertThat(statField(p.pid(), 6)).isEqualTo(Long.toString(p.pid()));
      assertThat(statField(p.pid(), 5)).isEqualTo(Long.toString(p.pid()));
      // (that it outlives the JVM is QemuBootTest.vmOutlivesItsHostProcessAndIsAdoptedAgain)
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (!Files.readString(dir.resolve("vmm.log")).contains("started")
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(Files.readString(dir.resolve("vmm.log"))).contains("started");
    } finally {
      p.signal(Processes.SIGKILL);
    }
    assertThat(StopEscalation.waitGone(p, Duration.ofSeconds(5))).isTrue();
    assertThat(p.signal(Processes.SIGKILL)).isFalse();
  }

  /** A VMM driver double whose graceful shutdown is a signal to the stand-in process. */
  private static final class SignalVmm implements Vmm {
    final int signal;
    final AtomicInteger shutdowns = new AtomicInteger();

    SignalVmm(int signal) {
      this.signal = signal;
    }

    @Override
    public VmmKind kind() {
      return VmmKind.FIRECRACKER;
    }

    @Override
    public Optional<String> unavailableReason() {
      return Optional.empty();
    }

    @Override
    public GuestTransport transport(VmSpec spec, VmLayout layout) {
      throw new UnsupportedOperationException();
    }

    @Override
    public VmmProcess start(VmSpec spec, VmLayout layout) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean requestShutdown(VmSpec spec, VmLayout layout, VmmProcess process) {
      shutdowns.incrementAndGet();
      if (signal == 0) {
        return false;
      }
      try {
        return process.signal(signal);
      } catch (IOException e) {
        return false;
      }
    }

    @Override
    public void cleanup(VmSpec spec, VmLayout layout) {}
  }

  private static GuestSession guestThatSignals(VmmProcess p, int signal) {
    return new GuestSession() {
      @Override
      public boolean requestStop(Duration timeout) {
        try {
          return p.signal(signal);
        } catch (IOException e) {
          return false;
        }
      }

      @Override
      public Optional<ExitRecord> exitReport() {
        return Optional.empty();
      }

      @Override
      public void close() {}
    };
  }

  @Test
  void guestStopEndsItWithoutEscalating(@TempDir Path dir) throws Exception {
    VmmProcess p = launch(dir, "echo ready; exec sleep 60");
    SignalVmm vmm = new SignalVmm(0);
    var outcome =
        StopEscalation.stop(
            SpecAndRecordsTest.spec(dir, "a"),
            new VmLayout(dir),
            vmm,
            p,
            guestThatSignals(p, Processes.SIGTERM),
            Duration.ofSeconds(5),
            Duration.ofSeconds(1));
    assertThat(outcome).isEqualTo(StopEscalation.Outcome.GUEST_STOPPED);
    assertThat(vmm.shutdowns).hasValue(0);
  }

  @Test
  void ignoredGuestStopEscalatesToVmmShutdown(@TempDir Path dir) throws Exception {
    // ignores INT (the "guest stop" here) but dies on TERM (the VMM's shutdown here)
    VmmProcess p = launch(dir, "trap '' INT; echo ready; while :; do sleep 0.05; done");
    SignalVmm vmm = new SignalVmm(Processes.SIGTERM);
    long t0 = System.nanoTime();
    var outcome =
        StopEscalation.stop(
            SpecAndRecordsTest.spec(dir, "a"),
            new VmLayout(dir),
            vmm,
            p,
            guestThatSignals(p, Processes.SIGINT),
            Duration.ofMillis(300),
            Duration.ofSeconds(5));
    assertThat(outcome).isEqualTo(StopEscalation.Outcome.VMM_SHUTDOWN);
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(300_000_000L);
    assertThat(vmm.shutdowns).hasValue(1);
  }

  @Test
  void everythingIgnoredEndsWithSigkill(@TempDir Path dir) throws Exception {
    VmmProcess p = launch(dir, "trap '' INT TERM HUP; echo ready; while :; do sleep 0.05; done");
    SignalVmm vmm = new SignalVmm(Processes.SIGTERM);
    var outcome =
        StopEscalation.stop(
            SpecAndRecordsTest.spec(dir, "a"),
            new VmLayout(dir),
            vmm,
            p,
            guestThatSignals(p, Processes.SIGINT),
            Duration.ofMillis(200),
            Duration.ofMillis(200));
    assertThat(outcome).isEqualTo(StopEscalation.Outcome.KILLED);
    assertThat(p.isAlive()).isFalse();
  }

  @Test
  void stoppingAGoneProcessIsANoOp(@TempDir Path dir) throws Exception {
    // alive long enough for launch() to record its start time, even on a loaded host
    VmmProcess p = launch(dir, "echo ready; sleep 0.5; exit 0");
    StopEscalation.waitGone(p, Duration.ofSeconds(5));
    var outcome =
        StopEscalation.stop(
            SpecAndRecordsTest.spec(dir, "a"),
            new VmLayout(dir),
            new SignalVmm(0),
            p,
            GuestSession.NONE,
            Duration.ofSeconds(1),
            Duration.ofSeconds(1));
    assertThat(outcome).isEqualTo(StopEscalation.Outcome.ALREADY_GONE);
  }
}
