package dev.inferno.daemon.stats;

import dev.inferno.daemon.backend.StatsSample;
import java.time.Instant;

/**
 * The two newest distinct readings of one VM (what CPU % needs) and when the newest was first seen.
 * Two small records per VM: the daemon's whole cost of stats per VM.
 */
final class StatsTracker {
  private StatsSample previous;
  private StatsSample last;
  private Instant seenAt;

  /** Takes a reading; the same report seen twice counts once. True when it was new. */
  synchronized boolean offer(StatsSample s, Instant now) {
    if (last != null && s.timeNanos() == last.timeNanos()) {
      return false;
    }
    previous = last != null && StatsFigures.sameBoot(last, s) ? last : null;
    last = s;
    seenAt = now;
    return true;
  }

  synchronized StatsSample previous() {
    return previous;
  }

  synchronized StatsSample last() {
    return last;
  }

  synchronized Instant seenAt() {
    return seenAt;
  }

  /** Both readings at once, consistent with each other. */
  synchronized Snapshot snapshot() {
    return new Snapshot(previous, last, seenAt);
  }

  record Snapshot(StatsSample previous, StatsSample last, Instant seenAt) {}
}
