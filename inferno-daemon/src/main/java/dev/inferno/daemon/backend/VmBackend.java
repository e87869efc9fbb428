package dev.inferno.daemon.backend;

import java.io.IOException;

/**
 * What the daemon needs from kiln: start a VM from a spec, re-attach to it after a daemon restart,
 * read its logs, and forget it. Implementations keep logs and exit records themselves (kiln's
 * per-VM state dir), so they survive the daemon.
 */
public interface VmBackend {
  /** Starts the VM; returns once its VMM process runs (not when the guest has booted). */
  RunningVm start(LaunchSpec spec) throws BackendException;

  /** After a daemon restart: what became of a VM the database says was running. */
  Adoption adopt(String id);

  /**
   * Writes the VM's log records that match the query to the sink, oldest first. With {@code
   * follow}, keeps writing new records until the VM has exited and every record it produced was
   * written, or until the sink throws (the client went away).
   */
  void logs(String id, LogQuery query, LogSink sink) throws IOException;

  /** Deletes what the backend keeps for an exited VM (logs, exit record, writable disk). */
  void remove(String id) throws IOException;

  /** The VMM this backend runs VMs on by default ("firecracker", "qemu"). */
  String defaultVmm();

  /** Whether /dev/kvm is usable. */
  boolean kvm();

  /** The result of {@link #adopt}. */
  sealed interface Adoption {
    /** Still running: the daemon watches it again. */
    record Adopted(RunningVm vm) implements Adoption {}

    /** It exited while the daemon was down, and the backend knows how. */
    record Exited(dev.inferno.model.ExitRecord exit) implements Adoption {}

    /** Nothing is known of it any more. */
    record Vanished(String reason) implements Adoption {}
  }
}
