package dev.inferno.daemon.backend;

import dev.inferno.model.ExitRecord;
import dev.inferno.model.stream.Frame;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the daemon needs from kiln: start a VM from a spec, re-attach to it after a daemon restart,
 * read its logs, and forget it. Implementations keep logs and exit records themselves (kiln's
 * per-VM state dir), so they survive the daemon. The seam exists for the daemon's tests, whose
 * double runs host processes; kiln's own types stay behind the implementation (the daemon's kiln
 * package). Failures are unchecked: {@link BackendException} with a message for the user.
 */
public interface VmBackend {
  /**
   * Starts the VM; returns once its VMM process runs (not when the guest has booted).
   *
   * @throws BackendException when the VMM cannot be started
   */
  VmHandle start(LaunchSpec spec);

  /**
   * Boots a VM that ran before again on its state dir (Docker's start of an exited container, a
   * restart): its writable disk as it was, its logs continuing after the previous boots' records.
   *
   * @throws BackendException when the VMM cannot be started
   */
  VmHandle startAgain(LaunchSpec spec);

  /**
   * Who must own the TAP of the VM about to be started with this spec, reserving that identity for
   * it (the jailed Firecracker runs as the VM's own uid, which can open only a TAP it owns). A VM
   * that is then not started is given back with {@link #releaseTapOwner}.
   */
  default GuestNic.Owner tapOwner(LaunchSpec spec) {
    return GuestNic.Owner.ROOT;
  }

  /** Gives back what {@link #tapOwner} reserved, for a VM that was not started after all. */
  default void releaseTapOwner(LaunchSpec spec) {}

  /** After a daemon restart: what became of a VM the database says was running. */
  Adoption adopt(String id);

  /**
   * Writes the VM's output that matches the query to the sink as {@link Frame.Kind#STDOUT} and
   * {@link Frame.Kind#STDERR} frames, oldest first. With {@code follow}, keeps writing new ones
   * until the VM has exited and every record it produced was written.
   *
   * @throws IOException only from the sink (the client went away), which ends the read
   */
  void logs(String id, LogQuery query, FrameSink sink) throws IOException;

  /**
   * Deletes what the backend keeps for an exited VM (logs, exit record, writable disk).
   *
   * @throws BackendException when its files cannot be removed
   */
  void remove(String id);

  /** The bytes the VM's stored logs take (for /metrics), or empty when the backend cannot tell. */
  default OptionalLong logBytes(String id) {
    return OptionalLong.empty();
  }

  /**
   * The VM's writable disk on the host (what its container layer takes: disk usage measures it), or
   * empty when it has none (never booted, {@code --read-only}) or the backend keeps none.
   */
  default Optional<Path> writableDisk(String id) {
    return Optional.empty();
  }

  /** The VMM this backend runs VMs on by default ("firecracker", "qemu"). */
  String defaultVmm();

  /** Whether /dev/kvm is usable. */
  boolean kvm();

  /** Receives a VM's output frames; throwing stops the read (the client went away). */
  @FunctionalInterface
  interface FrameSink {
    void accept(Frame frame) throws IOException;
  }

  /** The result of {@link #adopt}. */
  sealed interface Adoption {
    /** Still running: the daemon watches it again. */
    record Adopted(VmHandle vm) implements Adoption {}

    /** It exited while the daemon was down, and the backend knows how. */
    record Exited(ExitRecord exit) implements Adoption {}

    /** Nothing is known of it any more. */
    record Vanished(String reason) implements Adoption {}
  }
}
