package dev.inferno.model;

import java.util.Map;

/**
 * {@code POST /v1/volumes}.
 *
 * @param name the volume's name, or null for an anonymous one
 * @param sizeBytes its size, or null for the daemon's {@code volume-size}
 * @param labels labels, or null
 */
public record VolumeCreateRequest(String name, Long sizeBytes, Map<String, String> labels) {}
