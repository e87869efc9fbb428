package dev.inferno.kiln.logs;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A reader over a {@link LogStore}: returns durable records in order from where it was opened, and
 * with {@link #next(Duration)} waits for more (follow). Not thread-safe; one per reader. Records
 * pruned by retention while a cursor lags behind are skipped.
 */
public final class LogCursor implements Closeable {
  private final LogStore store;
  private final TimeBase timeBase;
  private final long minTime;

  /** Records before this ordinal are read but not returned (tail: index entries are sparse). */
  private final long startOrdinal;

  private Segment segment;
  private SegmentReader reader;
  private long ordinal;
  private boolean positioned;
  private long scanned;

  /** Positioned through the time index (since) rather than by ordinal (tail). */
  private final boolean byTime;

  LogCursor(LogStore store, long startOrdinal, TimeBase timeBase, long minTime, boolean byTime) {
    this.store = store;
    this.byTime = byTime;
    this.startOrdinal = startOrdinal;
    this.timeBase = timeBase;
    this.minTime = minTime;
  }

  /** Ordinal of the next record this cursor will look at. */
  public long ordinal() {
    return positioned ? ordinal : startOrdinal;
  }

  /** The next durable record, or null when there is none yet. */
  public LogRecord next() throws IOException {
    while (true) {
      if (!positioned) {
        LogStore.Position p =
            byTime ? store.locateTime(minTime, timeBase) : store.locate(startOrdinal);
        open(p.segment(), p.offset(), p.ordinal());
        positioned = true;
      }
      if (ordinal >= store.durableOrdinal()) {
        return null;
      }
      if (ordinal >= segment.endOrdinal) {
        Segment s = store.segmentFor(ordinal);
        if (s == segment) {
          return null; // not yet rotated in: cannot happen for durable records
        }
        open(s, s.headerSize, s.baseOrdinal);
        continue;
      }
      if (reader == null) {
        // this segment was pruned before we could open it
        Segment s = store.segmentFor(segment.endOrdinal);
        open(s, s.headerSize, s.baseOrdinal);
        continue;
      }
      LogRecord r = reader.next();
      if (r == null) {
        if (segment.endOrdinal == Long.MAX_VALUE) {
          throw new CorruptLogException(
              "log segment "
                  + segment.path
                  + " ends before record "
                  + ordinal
                  + " that was made durable; was the file modified by something else?");
        }
        ordinal = segment.endOrdinal; // a corrupt sealed segment: go on with the next one
        continue;
      }
      scanned++;
      long o = ordinal++;
      if (o < startOrdinal) {
        continue;
      }
      if (timeBase != null
          && (timeBase == TimeBase.HOST ? r.hostTimeNs() : r.guestTimeNs()) < minTime) {
        continue;
      }
      return r;
    }
  }

  /**
   * The next record, waiting up to {@code timeout} for one to become durable (follow). Null on
   * timeout, when the store was closed, or when {@link LogStore#wakeReaders} woke it.
   */
  public LogRecord next(Duration timeout) throws IOException, InterruptedException {
    return next(timeout, store.wakeTicket());
  }

  /**
   * As {@link #next(Duration)}, but a {@link LogStore#wakeReaders} since {@code wakeTicket} (from
   * {@link LogStore#wakeTicket}) ends the wait at once, even one that came before this call.
   */
  public LogRecord next(Duration timeout, long wakeTicket)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      LogRecord r = next();
      if (r != null) {
        return r;
      }
      long left = deadline - System.nanoTime();
      if (store.isClosed() || !store.awaitDurable(ordinal, left, wakeTicket)) {
        return next();
      }
    }
  }

  /** Records read from disk so far, returned or not (how much the index saved is visible here). */
  public long scanned() {
    return scanned;
  }

  /** Every durable record from here on. */
  public List<LogRecord> drain() throws IOException {
    List<LogRecord> out = new ArrayList<>();
    for (LogRecord r = next(); r != null; r = next()) {
      out.add(r);
    }
    return out;
  }

  private void open(Segment s, long offset, long at) throws IOException {
    closeReader();
    segment = s;
    ordinal = at;
    try {
      reader = new SegmentReader(s.path, offset);
    } catch (NoSuchFileException e) {
      reader = null;
    }
  }

  private void closeReader() throws IOException {
    if (reader != null) {
      reader.close();
      reader = null;
    }
  }

  @Override
  public void close() throws IOException {
    closeReader();
  }
}
