package dev.inferno.model;

import java.time.Instant;
import java.util.List;

/**
 * One step of an image's build ({@code inferno history}), newest first in the answer.
 *
 * @param id the image id (config digest) on the newest step, null below it: the steps of a pulled
 *     image are not images of their own
 * @param createdAt when the step ran, or null when the image does not say
 * @param createdBy the step's command, or empty
 * @param tags the image's references on the newest step, empty below it
 * @param sizeBytes the compressed size of the layer the step made; 0 for a step that made none
 * @param comment the step's comment, or empty
 */
public record ImageHistoryEntry(
    String id,
    Instant createdAt,
    String createdBy,
    List<String> tags,
    long sizeBytes,
    String comment) {
  public ImageHistoryEntry {
    tags = tags == null ? List.of() : List.copyOf(tags);
  }
}
