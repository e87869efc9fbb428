package dev.inferno.daemon.backend;

import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.model.ExitRecord;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** A VM whose VMM runs: the handle the daemon keeps until it exits. */
public interface VmHandle {
  String id();

  /** The VMM process's host pid. */
  long pid();

  /** "firecracker" or "qemu". */
  String vmm();

  Instant startedAt();

  /**
   * Completes (never exceptionally) once the VM is gone, with how it ended: a null code when the VM
   * gave no exit code (its VMM died first), and the reason then.
   */
  CompletableFuture<ExitRecord> exit();

  /**
   * Asks the guest's process to stop with {@code signal}; after {@code graceSeconds} the backend
   * escalates (Ctrl-Alt-Del, then killing the VMM). Returns at once; watch {@link #exit()}.
   */
  void stop(String signal, int graceSeconds);

  /** Sends {@code signal} to the guest's process; SIGKILL kills the VMM outright. */
  void kill(String signal);

  /**
   * The VM's interactive side (stdin, terminal size, exec sessions; kiln's contract, PROTOCOL.md
   * §10), or empty when the VM has no session channel.
   */
  default Optional<GuestExec> exec() {
    return Optional.empty();
  }

  /**
   * Freezes the VM's vCPUs (Firecracker's PATCH /vm Paused, QEMU's stop); stop and kill still work
   * on a paused VM.
   *
   * @throws UnsupportedOperationException when the backend cannot (the API answers 409)
   * @throws BackendException when the VMM refuses
   */
  default void pause() {
    throw new UnsupportedOperationException("pause");
  }

  /** Lets a paused VM run on; as {@link #pause}. */
  default void resume() {
    throw new UnsupportedOperationException("resume");
  }

  /** A boot's vCPUs and memory. */
  record Size(int vcpus, long memoryBytes) {}

  /**
   * The vCPUs and memory this boot has, or empty when the backend does not say. A VM updated while
   * it runs keeps these until its next boot, while its record already holds the new size.
   */
  default Optional<Size> size() {
    return Optional.empty();
  }

  /**
   * The guest's latest counters (its last METRICS report), or empty before the first one or for a
   * backend without them.
   */
  default Optional<StatsSample> stats() {
    return Optional.empty();
  }
}
