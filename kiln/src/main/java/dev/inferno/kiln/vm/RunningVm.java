package dev.inferno.kiln.vm;

import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.protocol.GuestMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A VM kiln supervises: its spec, VMM process and the future of its exit record. */
public final class RunningVm {
  private final VmSpec spec;
  private final Vmm vmm;
  private final VmmProcess process;
  private final GuestSession guest;
  private final CompletableFuture<ExitRecord> exit = new CompletableFuture<>();
  private volatile StopEscalation.Outcome stopOutcome;

  /** Whether the vCPUs are paused ({@link #pause}); learned from the VMM on adoption. */
  private volatile boolean paused;

  /** Why kiln SIGKILLed the VMM (a stop that escalated, or a kill), or null: the exit's reason. */
  private volatile String killedBecause;

  RunningVm(VmSpec spec, Vmm vmm, VmmProcess process, GuestSession guest) {
    this.spec = spec;
    this.vmm = vmm;
    this.process = process;
    this.guest = guest;
  }

  public VmSpec spec() {
    return spec;
  }

  public VmmKind vmm() {
    return vmm.kind();
  }

  public VmmProcess process() {
    return process;
  }

  public GuestSession guest() {
    return guest;
  }

  /** Completes with the exit record once the VMM is gone and exit.json is written. */
  public CompletableFuture<ExitRecord> exit() {
    return exit;
  }

  /** How the last {@link #stop} ended, or null. */
  public StopEscalation.Outcome stopOutcome() {
    return stopOutcome;
  }

  /**
   * Stops the VM (control channel → grace → VMM shutdown → SIGKILL) and waits for its exit record.
   */
  public ExitRecord stop() throws IOException {
    return stop(spec.stopTimeout());
  }

  /** As {@link #stop()} with another grace than the spec's (e.g. {@code inferno stop -t}). */
  public ExitRecord stop(Duration grace) throws IOException {
    if (paused && process.isAlive()) {
      // a paused guest cannot hear the stop: it would always end in SIGKILL (Docker unpauses too)
      resume();
    }
    Duration shutdownGrace =
        grace.compareTo(Duration.ofSeconds(5)) < 0 ? grace : Duration.ofSeconds(5);
    stopOutcome =
        StopEscalation.stop(
            spec,
            spec.layout(),
            vmm,
            process,
            guest,
            grace,
            shutdownGrace,
            () -> killedBecause = "the guest did not stop within the timeout; kiln killed the VMM");
    return exit.join();
  }

  /**
   * SIGKILLs the VMM at once ({@code docker kill}): the guest gets no say, and the exit record says
   * 137 (killed by SIGKILL), as Docker does. Returns without waiting; see {@link #exit()}.
   */
  public void kill() throws IOException {
    killedBecause = "killed (SIGKILL to the VMM)";
    process.signal(9);
  }

  /**
   * Pauses the VM's vCPUs ({@code docker pause}: QMP {@code stop} on QEMU, {@code PATCH /vm Paused}
   * on Firecracker). Pausing a paused VM does nothing.
   *
   * @throws VmmException the VM is not running, or the VMM refused
   * @throws UnsupportedOperationException the VMM cannot pause
   */
  public void pause() throws IOException {
    requireAlive("pause");
    vmm.pause(spec, spec.layout(), process);
    paused = true;
  }

  /** Lets a paused VM run again ({@code docker unpause}); resuming a running VM does nothing. */
  public void resume() throws IOException {
    requireAlive("resume");
    vmm.resume(spec, spec.layout(), process);
    paused = false;
  }

  /** Whether the VM is paused (its VMM still runs, its vCPUs do not). */
  public boolean paused() {
    return paused && !exit.isDone();
  }

  void learnPaused(boolean p) {
    paused = p;
  }

  private void requireAlive(String what) throws VmmException {
    if (exit.isDone() || !process.isAlive()) {
      throw new VmmException("cannot " + what + " VM " + spec.id() + ": it is not running");
    }
  }

  /** Why kiln killed the VMM, or null when it did not. */
  String killedBecause() {
    return killedBecause;
  }

  /** The guest's latest METRICS frame (init's view: cgroup CPU, memory, disks, network). */
  public Optional<GuestMetrics> guestMetrics() {
    return guest.metrics();
  }

  /**
   * The VMM's own latest metrics (Firecracker's metrics file); empty for a VMM without them or
   * before the first flush.
   *
   * @param flush ask the VMM to write fresh ones first (Firecracker flushes on its own only every
   *     60 s)
   */
  public Optional<VmmMetrics> vmmMetrics(boolean flush) throws IOException {
    Optional<Path> file = vmm.metricsFile(spec, spec.layout());
    if (file.isEmpty()) {
      return Optional.empty();
    }
    if (flush && process.isAlive()) {
      vmm.flushMetrics(spec, spec.layout(), process);
    }
    return VmmMetrics.latest(file.get());
  }

  /** What the VM uses now: the guest's latest metrics and the VMM process's CPU and memory. */
  public VmStatsSnapshot stats() throws IOException {
    return new VmStatsSnapshot(
        java.time.Instant.now(),
        guest.metrics().orElse(null),
        VmmUsage.of(process).orElse(null),
        (long) spec.memoryMib() << 20,
        spec.vcpus(),
        paused());
  }

  /**
   * The VM's interactive side: the main process's stdin and terminal size, exec sessions (commands,
   * archives, stat, top). Empty for a VM without guest channels. Its sessions end with 137 when the
   * VM stops.
   */
  public Optional<GuestExec> exec() {
    return guest.exec();
  }

  /** Sends the workload a signal through init (docker kill -s); false when init did not confirm. */
  public boolean signal(int signal) {
    return guest.signal(signal, Duration.ofSeconds(5));
  }

  Vmm driver() {
    return vmm;
  }

  void complete(ExitRecord record) {
    exit.complete(record);
  }

  void fail(Throwable t) {
    exit.completeExceptionally(t);
  }
}
