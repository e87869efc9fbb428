package dev.inferno.kiln.vm;

import dev.inferno.kiln.protocol.RunConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
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
    Path stateDir) {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,64}");

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
    if (vcpus < 1 || vcpus > 32) {
      throw new IllegalArgumentException("vcpus must be 1..32, not " + vcpus);
    }
    if (memoryMib < 32) {
      throw new IllegalArgumentException("memory must be at least 32 MiB, not " + memoryMib);
    }
    if (writableDiskBytes < 0) {
      throw new IllegalArgumentException("writable disk size must not be negative");
    }
    if (writableDiskBytes > 0 && writableDiskBytes < 8L << 20) {
      throw new IllegalArgumentException("a writable disk needs at least 8 MiB for ext4");
    }
  }

  public boolean hasWritableDisk() {
    return writableDiskBytes > 0;
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
        stateDir);
  }
}
