package dev.inferno.model;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * One line of {@code GET /v1/events} (NDJSON).
 *
 * @param seq monotonically increasing sequence number since daemon start
 * @param type created, started, exited, restarting (a restart is scheduled), paused, unpaused,
 *     renamed, removed, pulled, image-removed, volume-created, volume-removed, volume-mounted,
 *     volume-unmounted
 * @param id the VM's full id (the image reference for image events, the volume's name for volume
 *     events)
 * @param name the VM's name (of a volume event: the VM that mounts or unmounts it), or null
 * @param time when it happened
 * @param exit the exit record for "exited", else null
 * @param attributes what else the event says, or null: a volume event's {@code driver}, and for
 *     mounted/unmounted the {@code vm} (its id), for mounted its {@code destination} and {@code rw}
 */
public record Event(
    long seq,
    String type,
    String id,
    String name,
    Instant time,
    ExitRecord exit,
    Map<String, String> attributes) {
  public Event {
    // sorted: the same attributes always print the same way
    attributes =
        attributes == null || attributes.isEmpty()
            ? null
            : Collections.unmodifiableMap(new TreeMap<>(attributes));
  }

  /** An event without attributes (every VM and image event). */
  public Event(long seq, String type, String id, String name, Instant time, ExitRecord exit) {
    this(seq, type, id, name, time, exit, null);
  }
}
