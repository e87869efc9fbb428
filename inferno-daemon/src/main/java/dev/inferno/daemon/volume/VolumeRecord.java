package dev.inferno.daemon.volume;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A volume's row.
 *
 * @param name its name (64 hex digits when anonymous)
 * @param sizeBytes the filesystem's size
 * @param createdAt when it was made
 * @param labels the user's labels
 * @param anonymous made for a VM rather than by name
 */
public record VolumeRecord(
    String name, long sizeBytes, Instant createdAt, Map<String, String> labels, boolean anonymous) {
  public VolumeRecord {
    labels = labels == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(labels));
  }
}
