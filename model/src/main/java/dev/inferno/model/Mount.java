package dev.inferno.model;

/**
 * One filesystem mounted into a VM at start ({@code -v}, {@code --mount}, {@code --tmpfs}), as the
 * API carries it; the CLI's flag grammars produce it. A VM cannot share a host directory (a
 * Firecracker VM has no virtio-fs): {@code bind} exists on the wire only so that the daemon can
 * refuse it with a message naming the alternatives.
 *
 * @param type {@code volume}, {@code tmpfs} or {@code bind}
 * @param source the volume's name (null or empty for a new anonymous volume); the host path for a
 *     bind; null for tmpfs
 * @param target absolute path in the guest
 * @param readOnly mounted read-only ({@code :ro}, {@code readonly})
 * @param tmpfsSizeBytes a tmpfs's size limit, or null (the guest kernel's default: half its memory)
 * @param tmpfsMode a tmpfs's mode (e.g. 01777), or null
 */
public record Mount(
    String type,
    String source,
    String target,
    Boolean readOnly,
    Long tmpfsSizeBytes,
    Integer tmpfsMode) {

  public static Mount volume(String source, String target, boolean readOnly) {
    return new Mount("volume", source, target, readOnly, null, null);
  }

  public static Mount tmpfs(String target, Long sizeBytes, Integer mode) {
    return new Mount("tmpfs", null, target, false, sizeBytes, mode);
  }

  public boolean isReadOnly() {
    return Boolean.TRUE.equals(readOnly);
  }
}
