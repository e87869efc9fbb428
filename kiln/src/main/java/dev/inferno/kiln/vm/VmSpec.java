package dev.inferno.kiln.vm;

import dev.inferno.kiln.protocol.RunConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Everything needed to boot one VM.
 *
 * @param id unique VM id: 1–64 of [A-Za-z0-9-] (the jailer's rule, so it is safe in paths)
 * @param kernel uncompressed guest kernel (vmlinux)
 * @param init the guest PID 1 binary, packed as /inferno/init into the per-VM initramfs
 * @param runConfig the guest's /inferno/run.json (docs/PROTOCOL.md §5)
 * @param imageDisk the read-only root image (ext4), /dev/vda in the guest; null for none
 * @param writableDiskBytes size of the per-VM writable ext4 disk (/dev/vdb); 0 for an ephemeral VM
 * @param vcpus virtual CPUs
 * @param memoryMib guest memory
 * @param stopTimeout how long a stop waits for the guest before escalating
 * @param vmm which VMM to use
 * @param stateDir the per-VM state directory (layout in {@link VmLayout})
 * @param nic the network device on a host TAP; null for none ({@code --network none})
 * @param drives extra block devices (volumes), attached after the image and writable disks in this
 *     order and mounted by init at their targets
 * @param tmpfs tmpfs mounts init makes in the guest
 * @param readOnlyRoot Docker's {@code --read-only}: no writable disk (whatever writableDiskBytes
 *     says), the root remounted read-only by init, /tmp and /run on tmpfs
 */
public record VmSpec(
    String id,
    Path kernel,
    Path init,
    RunConfig runConfig,
    Path imageDisk,
    long writableDiskBytes,
    int vcpus,
    int memoryMib,
    Duration stopTimeout,
    VmmKind vmm,
    Path stateDir,
    Nic nic,
    List<Drive> drives,
    List<TmpfsMount> tmpfs,
    boolean readOnlyRoot) {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,64}");

  /** The most vCPUs a VM can have: Firecracker's limit, which kiln holds QEMU to as well. */
  public static final int MAX_VCPUS = 32;

  /** The least memory a VM boots with (the kernel plus init's initramfs). */
  public static final int MIN_MEMORY_MIB = 32;

  private static final Path MEMINFO = Path.of("/proc/meminfo");

  public VmSpec {
    Objects.requireNonNull(id, "id");
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          "VM id '" + id + "' must be 1-64 letters, digits or hyphens");
    }
    Objects.requireNonNull(kernel, "kernel");
    Objects.requireNonNull(init, "init");
    Objects.requireNonNull(runConfig, "runConfig");
    Objects.requireNonNull(stopTimeout, "stopTimeout");
    Objects.requireNonNull(vmm, "vmm");
    Objects.requireNonNull(stateDir, "stateDir");
    drives = List.copyOf(drives);
    tmpfs = List.copyOf(tmpfs);
    if (drives.size() > GuestDevices.MAX_DRIVES) {
      throw new IllegalArgumentException(
          "a VM can have at most "
              + GuestDevices.MAX_DRIVES
              + " volumes (the VMM's device slots), not "
              + drives.size());
    }
    java.util.Set<String> targets = new java.util.HashSet<>();
    for (String t :
        java.util.stream.Stream.concat(
                drives.stream().map(Drive::target), tmpfs.stream().map(TmpfsMount::target))
            .toList()) {
      if (!targets.add(t)) {
        throw new IllegalArgumentException("duplicate mount point: " + t);
      }
    }
    Optional<String> size = sizeProblem(vcpus, (long) memoryMib << 20, Long.MAX_VALUE);
    if (size.isPresent()) {
      throw new IllegalArgumentException(size.get());
    }
    if (writableDiskBytes < 0) {
      throw new IllegalArgumentException("writable disk size must not be negative");
    }
    if (writableDiskBytes > 0 && writableDiskBytes < 8L << 20) {
      throw new IllegalArgumentException("a writable disk needs at least 8 MiB for ext4");
    }
  }

  /** A spec without drives, tmpfs mounts or a read-only root (the spec before volumes). */
  public VmSpec(
      String id,
      Path kernel,
      Path init,
      RunConfig runConfig,
      Path imageDisk,
      long writableDiskBytes,
      int vcpus,
      int memoryMib,
      Duration stopTimeout,
      VmmKind vmm,
      Path stateDir,
      Nic nic) {
    this(
        id,
        kernel,
        init,
        runConfig,
        imageDisk,
        writableDiskBytes,
        vcpus,
        memoryMib,
        stopTimeout,
        vmm,
        stateDir,
        nic,
        List.of(),
        List.of(),
        false);
  }

  /**
   * Why a VM of this size cannot boot, or empty: the VMM's vCPU limit, the least memory a guest
   * boots with, and no more memory than the host has (a VMM asked for more dies before the guest
   * starts). The one place these limits live: the daemon asks it before it records a VM.
   *
   * @param hostMemoryBytes what the host has ({@link #hostMemoryBytes()}), or Long.MAX_VALUE to
   *     skip that check
   */
  public static Optional<String> sizeProblem(long vcpus, long memoryBytes, long hostMemoryBytes) {
    if (vcpus < 1 || vcpus > MAX_VCPUS) {
      return Optional.of("vcpus must be 1 to " + MAX_VCPUS + " (the VMM's limit), not " + vcpus);
    }
    if (memoryBytes < (long) MIN_MEMORY_MIB << 20) {
      return Optional.of(
          "a VM needs at least "
              + MIN_MEMORY_MIB
              + " MiB of memory, not "
              + (memoryBytes >> 20)
              + " MiB");
    }
    if (memoryBytes > hostMemoryBytes) {
      return Optional.of(
          "a VM cannot have "
              + (memoryBytes >> 20)
              + " MiB of memory: this host has "
              + (hostMemoryBytes >> 20)
              + " MiB (MemTotal in "
              + MEMINFO
              + "); ask for less");
    }
    return Optional.empty();
  }

  /** The host's memory (MemTotal of /proc/meminfo); Long.MAX_VALUE when it cannot be read. */
  public static long hostMemoryBytes() {
    try {
      for (String line : Files.readAllLines(MEMINFO)) {
        if (line.startsWith("MemTotal:")) {
          // "MemTotal:       24522324 kB"
          return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
        }
      }
    } catch (IOException | RuntimeException e) {
      // no procfs: leave the limit to the VMM, whose own error then reaches the exit record
    }
    return Long.MAX_VALUE;
  }

  /** Whether the VM gets a writable disk: asked for, and the root is not read-only. */
  public boolean hasWritableDisk() {
    return writableDiskBytes > 0 && !readOnlyRoot;
  }

  public VmLayout layout() {
    return new VmLayout(stateDir);
  }

  public VmSpec withVmm(VmmKind kind) {
    return new VmSpec(
        id,
        kernel,
        init,
        runConfig,
        imageDisk,
        writableDiskBytes,
        vcpus,
        memoryMib,
        stopTimeout,
        kind,
        stateDir,
        nic,
        drives,
        tmpfs,
        readOnlyRoot);
  }

  /** This spec with a network device ({@code null}: none). */
  public VmSpec withNic(Nic n) {
    return new VmSpec(
        id,
        kernel,
        init,
        runConfig,
        imageDisk,
        writableDiskBytes,
        vcpus,
        memoryMib,
        stopTimeout,
        vmm,
        stateDir,
        n,
        drives,
        tmpfs,
        readOnlyRoot);
  }

  /** This spec with these volumes, tmpfs mounts and root (Docker's -v, --tmpfs, --read-only). */
  public VmSpec withStorage(List<Drive> d, List<TmpfsMount> t, boolean readOnly) {
    return new VmSpec(
        id,
        kernel,
        init,
        runConfig,
        imageDisk,
        writableDiskBytes,
        vcpus,
        memoryMib,
        stopTimeout,
        vmm,
        stateDir,
        nic,
        d,
        t,
        readOnly);
  }
}
