package dev.inferno.image;

import dev.inferno.image.ref.Digest;

/** What a pull reports as it goes; the CLI renders Docker-style lines from these. */
public sealed interface PullEvent {
  /** The reference resolved to a platform manifest with this many layers. */
  record Resolved(String reference, Digest manifest, int layers) implements PullEvent {}

  /** One layer's progress; {@code done}/{@code total} are bytes of the compressed blob. */
  record Layer(Digest layer, Phase phase, long done, long total) implements PullEvent {}

  /** A step that is not per layer ("Building image disk", "Waiting for a concurrent pull"). */
  record Status(String message) implements PullEvent {}

  enum Phase {
    WAITING,
    ALREADY_EXISTS,
    DOWNLOADING,
    DOWNLOADED,
    EXTRACTING,
    EXTRACTED
  }
}
