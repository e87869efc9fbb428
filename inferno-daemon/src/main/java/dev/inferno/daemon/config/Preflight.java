package dev.inferno.daemon.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What must be in place before the daemon can run real VMs; every problem is reported at once, each
 * with what to do about it.
 */
public final class Preflight {
  static final long MIN_FREE_BYTES = 1L << 30;

  private Preflight() {}

  /** The VMM auto resolves to: firecracker with KVM and its binary, else qemu. */
  public static String resolveVmm(DaemonConfig c, boolean kvm) {
    if (!c.vmm().equals("auto")) {
      return c.vmm();
    }
    return kvm && Files.isExecutable(c.firecracker()) ? "firecracker" : "qemu";
  }

  /** Problems, empty when the daemon can start. */
  public static List<String> check(DaemonConfig c, boolean kvm) {
    List<String> problems = new ArrayList<>();
    if (!Files.isRegularFile(c.kernel())) {
      problems.add(
          "no guest kernel at " + c.kernel() + ": build one with kernel/build.sh and set kernel =");
    }
    if (!Files.isRegularFile(c.init())) {
      problems.add("no guest init at " + c.init() + ": build init/ and set init =");
    }
    String vmm = resolveVmm(c, kvm);
    if (vmm.equals("firecracker")) {
      if (!kvm) {
        problems.add(
            "vmm firecracker needs /dev/kvm, which is missing or not accessible: use --vmm qemu");
      }
      if (!Files.isExecutable(c.firecracker())) {
        problems.add(
            "no firecracker binary at " + c.firecracker() + ": install it or set firecracker =");
      }
    } else if (!Files.isExecutable(c.qemu())) {
      problems.add("no QEMU at " + c.qemu() + ": install qemu-system-x86 or set qemu =");
    }
    try {
      Path probe = c.stateDir();
      while (probe != null && !Files.exists(probe)) {
        probe = probe.getParent();
      }
      if (probe != null) {
        long free = Files.getFileStore(probe).getUsableSpace();
        if (free < MIN_FREE_BYTES) {
          problems.add(
              "only "
                  + (free >> 20)
                  + " MiB free for the state dir "
                  + c.stateDir()
                  + ": inferno needs at least 1 GiB");
        }
      }
    } catch (IOException e) {
      problems.add("cannot check free space for " + c.stateDir() + ": " + e.getMessage());
    }
    return problems;
  }
}
