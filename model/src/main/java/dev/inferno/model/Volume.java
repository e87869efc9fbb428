package dev.inferno.model;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A volume as the API shows it (Docker's volume inspect, where it fits): an ext4 image file the
 * daemon attaches to a VM as a block device.
 *
 * @param name its name; an anonymous volume's is 64 hex digits
 * @param driver always {@code local}
 * @param sizeBytes the filesystem's size (the file is sparse: it takes what was written)
 * @param usedBytes what the file takes on the host's disk, or null when unknown
 * @param createdAt when it was created
 * @param labels the user's labels
 * @param anonymous made for a VM's {@code -v /path} or an image VOLUME ({@code rm -v} and {@code
 *     volume prune} remove it)
 * @param usedBy the ids of the VMs that mount it, in any state
 * @param mountpoint the image file on the host
 */
public record Volume(
    String name,
    String driver,
    long sizeBytes,
    Long usedBytes,
    Instant createdAt,
    Map<String, String> labels,
    boolean anonymous,
    List<String> usedBy,
    String mountpoint) {
  public Volume {
    // sorted: the same labels always print the same way
    labels = labels == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(labels));
    usedBy = usedBy == null ? List.of() : List.copyOf(usedBy);
  }
}
