package dev.inferno.image;

/** Receives pull events, possibly from several threads at once (layers download in parallel). */
@FunctionalInterface
public interface PullProgress {
  PullProgress NONE = e -> {};

  void on(PullEvent event);
}
