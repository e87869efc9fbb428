package dev.inferno.kiln.vm;

import java.util.Locale;

/** Which VMM runs a VM: {@code auto} picks Firecracker when KVM and its binaries are there. */
public enum VmmKind {
  AUTO,
  FIRECRACKER,
  QEMU;

  public static VmmKind parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown VMM '" + s + "': use auto, firecracker or qemu", e);
    }
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
