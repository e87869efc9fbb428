package dev.inferno.daemon.docker;

import dev.inferno.daemon.backend.ImageBackend;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A pull's progress as dockerd streams it: {@code Pulling from NAME} (id = tag) first, then per
 * layer {@code Pulling fs layer}, {@code Waiting}, {@code Downloading} with progressDetail, {@code
 * Download complete}, {@code Extracting}, {@code Pull complete} (or {@code Already exists}). The
 * image side's own headline ("Pulling REF (N layers)") is replaced by Docker's; its other
 * image-wide steps ("Building image disk") pass as plain status lines. Calls come from the pulling
 * threads: {@code out} sees one line at a time.
 */
final class DockerPullProgress implements ImageBackend.ProgressListener {
  private final String name;
  private final String tag;
  private final Consumer<ImageShapes.Progress> out;
  private final Set<String> layers = new HashSet<>();
  private boolean began;

  /**
   * @param name the repository's path, as dockerd prints it ({@code library/busybox}, {@code
   *     tools/busybox} of localhost:5000/tools/busybox)
   * @param tag the tag or digest pulled
   * @param out where lines go (the first one starts the HTTP stream)
   */
  DockerPullProgress(String name, String tag, Consumer<ImageShapes.Progress> out) {
    this.name = name;
    this.tag = tag;
    this.out = out;
  }

  @Override
  public synchronized void progress(String status, String layer, long current, long total) {
    begin();
    if (layer == null) {
      if (!status.startsWith("Pulling ")) {
        out.accept(new ImageShapes.Progress(status, null, null));
      }
      return;
    }
    if (layers.add(layer)
        && !status.equals("Pulling fs layer")
        && !status.equals("Already exists")) {
      out.accept(new ImageShapes.Progress("Pulling fs layer", layer, detail(-1, -1)));
    }
    // dockerd counts only while bytes move; the CLI hides counted lines when not on a terminal, so
    // a "Pull complete" with counts would never be seen
    boolean moving = status.equals("Downloading") || status.equals("Extracting");
    out.accept(
        new ImageShapes.Progress(status, layer, moving ? detail(current, total) : detail(-1, -1)));
  }

  /** Starts the stream if nothing did yet (a pull with nothing to report still says so). */
  synchronized void begin() {
    if (!began) {
      began = true;
      out.accept(new ImageShapes.Progress("Pulling from " + name, tag, null));
    }
  }

  synchronized boolean began() {
    return began;
  }

  /** dockerd sends progressDetail on layer lines, empty ({@code {}}) when there is no count. */
  private static ImageShapes.ProgressDetail detail(long current, long total) {
    return new ImageShapes.ProgressDetail(
        current < 0 ? null : current, total < 0 || current < 0 ? null : total);
  }
}
