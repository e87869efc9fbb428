package dev.inferno.kiln.guest;

import java.util.concurrent.atomic.LongAdder;

/** Counters of a {@link GuestLink}, for metrics and tests. */
final class LinkStats {
  final LongAdder connections = new LongAdder();
  final LongAdder logRecords = new LongAdder();
  final LongAdder logBytes = new LongAdder();
  final LongAdder logDuplicates = new LongAdder();
  final LongAdder logGaps = new LongAdder();
  final LongAdder acks = new LongAdder();
  final LongAdder framesBeforeHello = new LongAdder();
  final LongAdder unexpectedFrames = new LongAdder();
  final LongAdder discardedBytes = new LongAdder();
  final LongAdder rejectedConnections = new LongAdder();

  GuestLink.Stats snapshot() {
    return new GuestLink.Stats(
        connections.sum(),
        logRecords.sum(),
        logBytes.sum(),
        logDuplicates.sum(),
        logGaps.sum(),
        acks.sum(),
        framesBeforeHello.sum(),
        unexpectedFrames.sum(),
        discardedBytes.sum(),
        rejectedConnections.sum());
  }
}
