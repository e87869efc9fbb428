package dev.inferno.kiln.vm;

import dev.inferno.kiln.guest.GuestTransport;
import java.io.IOException;
import java.util.Optional;

/**
 * A VMM driver: dev.inferno.kiln.qemu.Qemu and dev.inferno.kiln.firecracker.Firecracker. (Not
 * {@code sealed}: the drivers live in their own packages and kiln is not a named module, where
 * sealing across packages is not allowed.)
 */
public interface Vmm {

  VmmKind kind();

  /** Empty when this VMM can run here; else why not (binary missing, no KVM …). */
  Optional<String> unavailableReason();

  /**
   * Makes the per-VM files the VMM needs besides initramfs and disks (Firecracker: the jail with
   * hard links, a uid). Runs before the guest listeners are bound.
   */
  default void prepare(VmSpec spec, VmLayout layout) throws IOException {}

  /** Where the guest channel listeners must be bound before {@link #start}. */
  GuestTransport transport(VmSpec spec, VmLayout layout);

  /**
   * Starts the VMM detached (it survives the JVM) with the per-VM files already in {@code layout}
   * (initramfs, writable disk); returns once the VMM runs the guest (Firecracker: after
   * InstanceStart).
   */
  VmmProcess start(VmSpec spec, VmLayout layout) throws IOException;

  /**
   * The VMM's own graceful stop (Firecracker: SendCtrlAltDel, which init maps to a stop); false
   * when this VMM has none or it could not be delivered.
   */
  boolean requestShutdown(VmSpec spec, VmLayout layout, VmmProcess process);

  /** The VMM's own metrics file (Firecracker's, one JSON object per flush), if it has one. */
  default Optional<java.nio.file.Path> metricsFile(VmSpec spec, VmLayout layout) {
    return Optional.empty();
  }

  /**
   * Asks the VMM to write its metrics now (Firecracker: {@code PUT /actions FlushMetrics}); false
   * when it has no such request or it failed.
   */
  default boolean flushMetrics(VmSpec spec, VmLayout layout, VmmProcess process) {
    return false;
  }

  /**
   * Who must own this VM's TAP ({@link VmSpec#nic()}), when the VMM will not run as kiln's user
   * (Firecracker under the jailer: the VM's own uid). Reserves that identity for {@code spec.id()}:
   * {@link #prepare} uses the same one and {@link #cleanup} frees it; a caller that then does not
   * start the VM frees it with {@link #releaseTapOwner}. Empty: any TAP kiln's user can open.
   */
  default Optional<TapOwner> tapOwner(VmSpec spec) throws VmmException {
    return Optional.empty();
  }

  /** Frees what {@link #tapOwner} reserved for a VM that was not started after all. */
  default void releaseTapOwner(VmSpec spec) {}

  /**
   * Pauses the VM's vCPUs ({@code docker pause}): memory and devices stay, the guest does nothing
   * until {@link #resume}. Unsupported by a VMM without it.
   */
  default void pause(VmSpec spec, VmLayout layout, VmmProcess process) throws IOException {
    throw new UnsupportedOperationException(kind().label() + " cannot pause a VM");
  }

  /** Lets a paused VM run again. */
  default void resume(VmSpec spec, VmLayout layout, VmmProcess process) throws IOException {
    throw new UnsupportedOperationException(kind().label() + " cannot resume a VM");
  }

  /** Asks the VMM whether the VM is paused (after kiln restarted: {@link Supervisor#adopt}). */
  default boolean paused(VmSpec spec, VmLayout layout, VmmProcess process) throws IOException {
    return false;
  }

  /** Removes what the VMM left (jail, sockets, cgroup); keeps logs, console and exit record. */
  void cleanup(VmSpec spec, VmLayout layout) throws IOException;
}
