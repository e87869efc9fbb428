package dev.inferno.model;

/**
 * One line of a pull or load progress stream (NDJSON).
 *
 * @param status what happens: e.g. "Resolving", "Downloading", "Verifying", "Pull complete",
 *     "Done", "Error"
 * @param id the layer's short digest, or null for image-wide lines
 * @param current bytes done, or null
 * @param total bytes expected, or null
 * @param error the error message when status is "Error", else null
 * @param image the resulting image on the final "Done" line, else null
 */
public record Progress(
    String status, String id, Long current, Long total, String error, ImageSummary image) {}
