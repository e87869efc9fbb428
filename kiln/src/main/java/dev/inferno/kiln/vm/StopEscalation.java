package dev.inferno.kiln.vm;

import dev.inferno.sys.Processes;
import java.io.IOException;
import java.time.Duration;

/**
 * Stopping a VM, politest first: ask init over the control channel to signal the workload and wait
 * the grace period; then the VMM's own shutdown (Firecracker SendCtrlAltDel) and a shorter wait;
 * then SIGKILL the VMM (Firecracker ignores SIGTERM, and under a new pid namespace SIGTERM is
 * dropped anyway).
 */
public final class StopEscalation {

  /** How a stop ended. */
  public enum Outcome {
    ALREADY_GONE,
    GUEST_STOPPED,
    VMM_SHUTDOWN,
    KILLED
  }

  private static final Duration POLL = Duration.ofMillis(20);

  private StopEscalation() {}

  public static Outcome stop(
      VmSpec spec,
      VmLayout layout,
      Vmm vmm,
      VmmProcess process,
      GuestSession guest,
      Duration grace,
      Duration shutdownGrace)
      throws IOException {
    return stop(spec, layout, vmm, process, guest, grace, shutdownGrace, () -> {});
  }

  /**
   * As above; {@code beforeKill} runs just before the SIGKILL, so whoever records the exit knows
   * the VMM was killed (its watcher may see it gone before this method returns).
   */
  public static Outcome stop(
      VmSpec spec,
      VmLayout layout,
      Vmm vmm,
      VmmProcess process,
      GuestSession guest,
      Duration grace,
      Duration shutdownGrace,
      Runnable beforeKill)
      throws IOException {
    if (!process.isAlive()) {
      return Outcome.ALREADY_GONE;
    }
    long start = System.nanoTime();
    boolean asked = guest.requestStop(grace);
    if (asked) {
      Duration left = grace.minusNanos(System.nanoTime() - start);
      if (waitGone(process, left.isNegative() ? Duration.ZERO : left)) {
        return Outcome.GUEST_STOPPED;
      }
    } else if (waitGone(process, Duration.ZERO)) {
      return Outcome.ALREADY_GONE;
    }
    if (vmm.requestShutdown(spec, layout, process)) {
      // without a guest channel, the VMM's shutdown is the graceful step and gets the full grace
      if (waitGone(process, asked ? shutdownGrace : grace)) {
        return Outcome.VMM_SHUTDOWN;
      }
    }
    beforeKill.run();
    process.signal(Processes.SIGKILL);
    if (!waitGone(process, Duration.ofSeconds(10))) {
      throw new VmmException(
          "VMM pid " + process.pid() + " survived SIGKILL for 10 s (stuck in the kernel?)");
    }
    return Outcome.KILLED;
  }

  /** Polls until the process is gone or the timeout passes; true when gone. */
  public static boolean waitGone(VmmProcess process, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (process.isAlive()) {
      if (System.nanoTime() >= deadline) {
        return false;
      }
      try {
        Thread.sleep(POLL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return !process.isAlive();
      }
    }
    return true;
  }
}
