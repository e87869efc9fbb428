package dev.inferno.model;

import java.time.Instant;

/**
 * One image ({@code inferno images}).
 *
 * @param reference the normalized reference (e.g. {@code docker.io/library/alpine:3.20})
 * @param id the config digest (Docker's image id)
 * @param manifestDigest the manifest digest ({@code --digests})
 * @param sizeBytes size of the image's layers as stored
 * @param createdAt when the image was built (from its config), or null
 */
public record ImageSummary(
    String reference, String id, String manifestDigest, long sizeBytes, Instant createdAt) {}
