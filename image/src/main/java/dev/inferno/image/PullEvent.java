package dev.inferno.image;

import dev.inferno.image.ref.Digest;

/** What a pull reports as it goes; the CLI renders Docker-style lines from these. */
public sealed interface PullEvent {
  /** A plain, Docker-like line for logs and non-TTY output. */
  String line();

  /** The reference resolved to a platform manifest with this many layers. */
  record Resolved(String reference, Digest manifest, int layers) implements PullEvent {
    @Override
    public String line() {
      return reference + ": resolved to " + manifest + " (" + layers + " layers)";
    }
  }

  /** One layer's progress; {@code done}/{@code total} are bytes of the compressed blob. */
  record Layer(Digest layer, Phase phase, long done, long total) implements PullEvent {
    @Override
    public String line() {
      String id = layer.shortHex() + ": ";
      return switch (phase) {
        case WAITING -> id + "Waiting";
        case ALREADY_EXISTS -> id + "Already exists";
        case DOWNLOADING -> id + "Downloading " + human(done) + "/" + human(total);
        case DOWNLOADED -> id + "Download complete";
        case EXTRACTING -> id + "Extracting";
        case EXTRACTED -> id + "Pull complete";
      };
    }
  }

  /** A step that is not per layer ("Building image disk", "Waiting for a concurrent pull"). */
  record Status(String message) implements PullEvent {
    @Override
    public String line() {
      return message;
    }
  }

  /** Docker's size style: 1.2MB (decimal units). */
  static String human(long bytes) {
    if (bytes < 1000) {
      return bytes + "B";
    }
    String[] units = {"kB", "MB", "GB", "TB"};
    double v = bytes;
    int u = -1;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    return String.format(java.util.Locale.ROOT, "%.1f%s", v, units[u]);
  }

  enum Phase {
    WAITING,
    ALREADY_EXISTS,
    DOWNLOADING,
    DOWNLOADED,
    EXTRACTING,
    EXTRACTED
  }
}
