package dev.inferno.model;

import java.time.Instant;

/**
 * One line of {@code GET /v1/events} (NDJSON).
 *
 * @param seq monotonically increasing sequence number since daemon start
 * @param type created, started, exited, restarting (a restart is scheduled), paused, unpaused,
 *     renamed, removed, pulled, image-removed
 * @param id the VM's full id (or image reference for image events)
 * @param name the VM's name, or null
 * @param time when it happened
 * @param exit the exit record for "exited", else null
 */
public record Event(long seq, String type, String id, String name, Instant time, ExitRecord exit) {}
