package dev.inferno.kiln.logs;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What the store keeps in memory about one segment: where it starts, and its sparse index. The
 * index file ({@code <base>.idx}) holds the same entries, 32 bytes each: u64 file offset of a
 * record, u64 its ordinal, i64 max host time and i64 max guest time of all records before it
 * (running maxima, so that a binary search for "since T" is exact even when a clock steps back).
 */
final class Segment {
  static final int INDEX_ENTRY = 32;

  final long baseOrdinal;
  final Path path;
  final Path indexPath;
  final int headerSize;

  /** Exclusive end ordinal; Long.MAX_VALUE while this is the segment being appended to. */
  volatile long endOrdinal = Long.MAX_VALUE;

  private long[] offsets = new long[16];
  private long[] ordinals = new long[16];
  private long[] maxHost = new long[16];
  private long[] maxGuest = new long[16];
  private int count;

  /** Entries already written to the index file. */
  int persistedEntries;

  Segment(Path dir, long baseOrdinal, int headerSize) {
    this.baseOrdinal = baseOrdinal;
    this.path = dir.resolve(SegmentFormat.fileName(baseOrdinal));
    this.indexPath = dir.resolve(SegmentFormat.indexName(baseOrdinal));
    this.headerSize = headerSize;
  }

  void addEntry(long offset, long ordinal, long host, long guest) {
    if (count == offsets.length) {
      int n = count * 2;
      offsets = Arrays.copyOf(offsets, n);
      ordinals = Arrays.copyOf(ordinals, n);
      maxHost = Arrays.copyOf(maxHost, n);
      maxGuest = Arrays.copyOf(maxGuest, n);
    }
    offsets[count] = offset;
    ordinals[count] = ordinal;
    maxHost[count] = host;
    maxGuest[count] = guest;
    count++;
  }

  int entries() {
    return count;
  }

  long offset(int i) {
    return offsets[i];
  }

  long ordinal(int i) {
    return ordinals[i];
  }

  long maxBefore(int i, TimeBase base) {
    return base == TimeBase.HOST ? maxHost[i] : maxGuest[i];
  }

  /** The last entry whose ordinal is ≤ {@code ordinal}, or -1. */
  int entryAtOrBefore(long ordinal) {
    int lo = 0;
    int hi = count - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (ordinals[mid] <= ordinal) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** The last entry before which every record is older than {@code t}, or -1. */
  int lastEntryAllBefore(long t, TimeBase base) {
    long[] m = base == TimeBase.HOST ? maxHost : maxGuest;
    int lo = 0;
    int hi = count - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (m[mid] < t) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Entries [from, count) as index-file bytes. */
  ByteBuffer entryBytes(int from) {
    ByteBuffer b = ByteBuffer.allocate((count - from) * INDEX_ENTRY);
    for (int i = from; i < count; i++) {
      b.putLong(offsets[i]).putLong(ordinals[i]).putLong(maxHost[i]).putLong(maxGuest[i]);
    }
    return b.flip();
  }

  /**
   * Loads entries from index-file bytes; false (and nothing loaded) when they are not a plausible
   * index of this segment of {@code size} bytes ending before ordinal {@code end}.
   */
  boolean loadEntries(ByteBuffer b, long size, long end) {
    if (b.remaining() % INDEX_ENTRY != 0) {
      return false;
    }
    long prevOff = -1;
    long prevOrd = baseOrdinal - 1;
    int n = b.remaining() / INDEX_ENTRY;
    long[][] rows = new long[n][];
    for (int i = 0; i < n; i++) {
      long off = b.getLong();
      long ord = b.getLong();
      long h = b.getLong();
      long g = b.getLong();
      boolean ok = off > prevOff && ord > prevOrd && off >= headerSize && off < size && ord < end;
      if (!ok || (i == 0 && (off != headerSize || ord != baseOrdinal))) {
        return false;
      }
      rows[i] = new long[] {off, ord, h, g};
      prevOff = off;
      prevOrd = ord;
    }
    for (long[] r : rows) {
      addEntry(r[0], r[1], r[2], r[3]);
    }
    persistedEntries = count;
    return true;
  }
}
