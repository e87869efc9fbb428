package dev.inferno.daemon.backend;

import java.nio.file.Path;
import java.util.List;

/**
 * What a VM mounts besides its root, claimed by the daemon's volume service at each boot (kiln
 * decides which guest device each drive becomes).
 *
 * @param drives volumes: ext4 image files, in the order given
 * @param tmpfs tmpfs mounts
 * @param readOnlyRoot {@code --read-only}: no writable disk, /tmp and /run on tmpfs
 */
public record Storage(List<Drive> drives, List<Tmpfs> tmpfs, boolean readOnlyRoot) {
  public static final Storage NONE = new Storage(List.of(), List.of(), false);

  public Storage {
    drives = List.copyOf(drives);
    tmpfs = List.copyOf(tmpfs);
  }

  /**
   * A volume.
   *
   * @param volume its name
   * @param file the ext4 image file
   * @param target where the guest mounts it
   * @param readOnly mounted read-only
   */
  public record Drive(String volume, Path file, String target, boolean readOnly) {}

  /**
   * A tmpfs.
   *
   * @param target where the guest mounts it
   * @param sizeBytes its size limit, or null for the kernel's default
   * @param mode its mode, or null for 01777
   */
  public record Tmpfs(String target, Long sizeBytes, Integer mode) {}
}
