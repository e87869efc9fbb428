package dev.inferno.sys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

/**
 * Can this host run KVM guests? Opening /dev/kvm read-write is what both Firecracker and QEMU need;
 * the API version and creating a VM prove the module answers. A nested host without virtualisation
 * extensions passes those checks and then fails at the first vCPU run (seen: QEMU aborts with
 * "failed to set MSR 0x10a"), so the CPU must also show vmx or svm in /proc/cpuinfo. Callers keep
 * an override.
 */
public final class Kvm {
  private static final int O_RDWR = 2;
  private static final int O_CLOEXEC = 0x80000;
  private static final long KVM_GET_API_VERSION = 0xAE00L;
  private static final long KVM_CREATE_VM = 0xAE01L;
  private static final int KVM_API_VERSION = 12;

  private Kvm() {}

  /** The outcome of a probe: usable, or why not (for a message the operator can act on). */
  public record Probe(boolean usable, String reason) {}

  public static Probe probe() {
    return probe(Path.of("/dev/kvm"), Path.of("/proc/cpuinfo"));
  }

  public static Probe probe(Path device) {
    return probe(device, Path.of("/proc/cpuinfo"));
  }

  public static Probe probe(Path device, Path cpuinfo) {
    Probe opened = probeDevice(device);
    if (!opened.usable()) {
      return opened;
    }
    if (!hasVirtualisationFlag(cpuinfo)) {
      return new Probe(
          false,
          device
              + " opens, but the CPU shows neither vmx nor svm in "
              + cpuinfo
              + ": no usable hardware virtualisation (a nested VM without it?)");
    }
    return opened;
  }

  /** True when some {@code flags} line of a /proc/cpuinfo lists vmx (Intel) or svm (AMD). */
  static boolean hasVirtualisationFlag(Path cpuinfo) {
    try (Stream<String> lines = Files.lines(cpuinfo)) {
      return lines
          .filter(line -> line.startsWith("flags"))
          .flatMap(
              line -> Arrays.stream(line.substring(line.indexOf(':') + 1).trim().split("\\s+")))
          .anyMatch(flag -> flag.equals("vmx") || flag.equals("svm"));
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }

  private static Probe probeDevice(Path device) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.callState(arena);
      int fd =
          (int)
              Libc.OPEN.invokeExact(
                  state, arena.allocateFrom(device.toString()), O_RDWR | O_CLOEXEC);
      if (fd < 0) {
        int errno = Libc.errno(state);
        return new Probe(false, "cannot open " + device + " read-write: " + Libc.strerror(errno));
      }
      try {
        int version = (int) Libc.IOCTL.invokeExact(state, fd, KVM_GET_API_VERSION, 0L);
        if (version != KVM_API_VERSION) {
          return new Probe(
              false, device + " is not a KVM device (KVM_GET_API_VERSION gave " + version + ")");
        }
        int vm = (int) Libc.IOCTL.invokeExact(state, fd, KVM_CREATE_VM, 0L);
        if (vm < 0) {
          return new Probe(false, "KVM_CREATE_VM failed: " + Libc.strerror(Libc.errno(state)));
        }
        int ignored = (int) Libc.CLOSE.invokeExact(state, vm);
        return new Probe(true, device + " works");
      } finally {
        int ignored = (int) Libc.CLOSE.invokeExact(state, fd);
      }
    } catch (Throwable t) {
      throw Libc.rethrow(t);
    }
  }
}
