package dev.inferno.kiln.vm;

import java.nio.file.Path;
import java.util.Objects;

/**
 * An extra block device of a VM (a volume): an ext4 image file the guest's init mounts at {@code
 * target} before the workload starts. kiln decides which guest device it becomes ({@link
 * GuestDevices}).
 *
 * @param file the image file on the host (a volume's volume.ext4)
 * @param target where init mounts it in the guest (absolute)
 * @param readOnly attached read-only by the VMM and mounted MS_RDONLY by init
 */
public record Drive(Path file, String target, boolean readOnly) {
  public Drive {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(target, "target");
    if (!target.startsWith("/")) {
      throw new IllegalArgumentException(
          "a drive's target must be an absolute path in the guest, not '" + target + "'");
    }
  }
}
