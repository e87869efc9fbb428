package dev.inferno.kiln.logs;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The log records of one VM: append-only segment files ({@link SegmentFormat}) with sparse indexes
 * ({@link Segment}) in one directory, rotated at {@link Options#maxFileBytes} and pruned to {@link
 * Options#maxFiles}.
 *
 * <p>Writers {@link #append} and then {@link #force} (once per batch): a record is visible to
 * readers and counts as persisted only after a force, and acks must only be sent after it. The
 * store drops a record whose seq is not above the highest one it already holds for its boot id
 * (init's resend after a reconnect), and remembers those highest seqs across reopen. Readers
 * ({@link LogCursor}) find {@code tail N} and {@code since T} through the index, so they read at
 * most one index interval of records they do not return, and can block until more records are
 * durable.
 *
 * <p>Thread-safe: one thread appends (the log channel's reader), another may force (a committer),
 * any number read.
 */
public final class LogStore implements Closeable {

  /**
   * Retention and index density.
   *
   * @param maxFileBytes a segment is closed and a new one started when the next record would pass
   *     this size
   * @param maxFiles the most segment files kept; the oldest are deleted (like docker's max-file)
   * @param indexIntervalBytes record bytes between two index entries (bounds the scan of
   *     tail/since)
   * @param durability what {@link #force} guarantees before acks go out
   */
  public record Options(
      long maxFileBytes, int maxFiles, int indexIntervalBytes, Durability durability) {
    public Options(long maxFileBytes, int maxFiles, int indexIntervalBytes) {
      this(maxFileBytes, maxFiles, indexIntervalBytes, Durability.FSYNC);
    }

    public Options {
      java.util.Objects.requireNonNull(durability, "durability");
      if (maxFileBytes < 4096 || maxFiles < 1 || indexIntervalBytes < 1) {
        throw new IllegalArgumentException(
            "log options need maxFileBytes ≥ 4096, maxFiles ≥ 1, indexIntervalBytes ≥ 1: "
                + maxFileBytes
                + ", "
                + maxFiles
                + ", "
                + indexIntervalBytes);
      }
    }

    /** 20 MiB × 5 files, an index entry every 64 KiB. */
    public static Options defaults() {
      return new Options(20L << 20, 5, 64 << 10);
    }
  }

  /** What a {@link #force} (and so an ACK) guarantees. */
  public enum Durability {
    /**
     * FileChannel.force: the records survive a crash of the host kernel or a power loss. The
     * default.
     */
    FSYNC,
    /**
     * Written to the file (the page cache) only: the records survive a crash or kill of the process
     * hosting kiln, which is what init's resend covers; a host crash can lose the last seconds (as
     * docker's json-file can).
     */
    PAGE_CACHE
  }

  private final Path dir;
  private final Options options;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition durableAdvanced = lock.newCondition();

  /** Bumped by {@link #wakeReaders}: a waiting reader returns when it changes (guarded by lock). */
  private long wakeups;

  private final CRC32C crc = new CRC32C();
  private final ByteBuffer writeBuf = ByteBuffer.allocateDirect(128 * 1024);

  /**
   * Highest seq held per boot id, oldest boot first; the current boot's entry may lag behind {@link
   * #curSeq}.
   */
  private final LinkedHashMap<Long, Long> boots;

  /** The boot being appended (fast path without boxing): its highest seq, or 0 for none. */
  private long curBoot;

  private long curSeq;
  private boolean haveCur;

  private volatile List<Segment> segments;
  private Segment active;
  private FileChannel activeCh;
  private FileChannel activeIdx;

  /** File offset where the next record goes (including bytes still in writeBuf). */
  private long activeEnd;

  private long nextOrdinal;
  private volatile long durableOrdinal;
  private long maxHost;
  private long maxGuest;
  private long bytesSinceIndex;
  private long duplicates;
  private volatile boolean closed;

  /** Held while a writer has the directory open; null for a read-only store. */
  private final FileLock dirLock;

  private LogStore(Path dir, Options options, Recovery r, FileLock dirLock) {
    this.dir = dir;
    this.options = options;
    this.dirLock = dirLock;
    this.boots = r.boots;
    this.segments = List.copyOf(r.segments);
    this.active = r.segments.getLast();
    this.activeCh = r.activeCh;
    this.activeIdx = r.activeIdx;
    this.activeEnd = r.activeEnd;
    this.nextOrdinal = r.nextOrdinal;
    this.durableOrdinal = r.nextOrdinal;
    this.maxHost = r.maxHost;
    this.maxGuest = r.maxGuest;
    this.bytesSinceIndex = r.bytesSinceIndex;
  }

  /** Opens (creating if needed) the store in {@code dir} with default options. */
  public static LogStore open(Path dir) throws IOException {
    return open(dir, Options.defaults());
  }

  /**
   * Opens the store, recovering from a crash: the newest segment is scanned, a torn last record is
   * cut off, its index rebuilt, and the highest seq per boot id restored.
   */
  public static LogStore open(Path dir, Options options) throws IOException {
    Files.createDirectories(dir);
    FileLock lock = lockDirectory(dir);
    try {
      return new LogStore(
          dir, options, Recovery.run(dir, options.indexIntervalBytes(), false), lock);
    } catch (IOException | RuntimeException e) {
      lock.channel().close();
      throw e;
    }
  }

  /**
   * Opens a read-only view of what is in {@code dir} now (for example while another process writes
   * it, or after the VM is gone): changes no file, takes no lock, ignores a torn tail; appends made
   * later by another process are not seen (open again). An absent directory reads as empty.
   */
  public static LogStore openReadOnly(Path dir) throws IOException {
    Options o = Options.defaults();
    if (!Files.isDirectory(dir)) {
      return new LogStore(dir, o, Recovery.empty(dir), null);
    }
    return new LogStore(dir, o, Recovery.run(dir, o.indexIntervalBytes(), true), null);
  }

  /** One writer per directory: two kilns appending to the same files would corrupt them. */
  private static FileLock lockDirectory(Path dir) throws IOException {
    Path lockFile = dir.resolve("lock");
    FileChannel ch =
        FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      ch.close();
      throw new IOException(
          "log directory "
              + dir
              + " is already open for writing by another kiln (it holds a lock on "
              + lockFile
              + "); stop that one first, or read with LogStore.openReadOnly");
    }
    return lock;
  }

  /** Whether this store was opened read-only. */
  public boolean isReadOnly() {
    return dirLock == null;
  }

  public Path directory() {
    return dir;
  }

  /**
   * Appends a record unless it is a duplicate (its seq is not above the highest seq held for its
   * boot id). Not durable, and not visible to readers, until the next {@link #force}.
   *
   * @return false when the record was a duplicate and was dropped
   */
  public boolean append(LogRecord r) throws IOException {
    if (r.data().length > SegmentFormat.MAX_DATA) {
      throw new IllegalArgumentException("log record of " + r.data().length + " bytes is too big");
    }
    lock.lock();
    try {
      ensureWritable();
      if (!haveCur || curBoot != r.bootId()) {
        syncBoots();
        curBoot = r.bootId();
        curSeq = boots.getOrDefault(curBoot, 0L);
        haveCur = true;
      }
      if (curSeq != 0 && Long.compareUnsigned(r.seq(), curSeq) <= 0) {
        duplicates++;
        return false;
      }
      int size = SegmentFormat.recordSize(r.data().length);
      if (activeEnd + size > options.maxFileBytes() && active.entries() > 0) {
        rotate();
      }
      if (writeBuf.remaining() < size) {
        flushBuffer();
      }
      if (active.entries() == 0 || bytesSinceIndex >= options.indexIntervalBytes()) {
        active.addEntry(activeEnd, nextOrdinal, maxHost, maxGuest);
        bytesSinceIndex = 0;
      }
      SegmentFormat.writeRecord(writeBuf, r, crc);
      activeEnd += size;
      bytesSinceIndex += size;
      nextOrdinal++;
      maxHost = Math.max(maxHost, r.hostTimeNs());
      maxGuest = Math.max(maxGuest, r.guestTimeNs());
      curSeq = r.seq();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** What {@link #appendNext} did with a record. */
  public enum Outcome {
    /** Stored (durable after the next force). */
    APPENDED,
    /** Its seq is not above the highest held for its boot: dropped (init's resend). */
    DUPLICATE,
    /**
     * Its seq skips at least one record of a boot this store knows: not stored. The frames between
     * were lost in transit; the caller should drop the connection so that init resends from its
     * oldest unacknowledged frame.
     */
    GAP
  }

  /**
   * Like {@link #append}, but refuses a record that would leave a hole in its boot's sequence (a
   * boot's first record may have any seq, since earlier ones may have been pruned or belong to a
   * lost store).
   */
  public Outcome appendNext(LogRecord r) throws IOException {
    lock.lock();
    try {
      long last = lastSeq(r.bootId());
      if (last != 0 && Long.compareUnsigned(r.seq(), last + 1) > 0) {
        return Outcome.GAP;
      }
      return append(r) ? Outcome.APPENDED : Outcome.DUPLICATE;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Makes every record appended before this call durable (FileChannel.force) and visible to
   * readers. Safe to call from another thread than the appender, concurrently with appends.
   */
  public void force() throws IOException {
    FileChannel ch;
    long target;
    lock.lock();
    try {
      ensureWritable();
      if (durableOrdinal == nextOrdinal) {
        return;
      }
      flushBuffer();
      ch = activeCh;
      target = nextOrdinal;
    } finally {
      lock.unlock();
    }
    try {
      if (options.durability() == Durability.FSYNC) {
        ch.force(false);
      }
    } catch (ClosedChannelException e) {
      // rotated (or closed) meanwhile: rotation forces the segment it closes
      ensureOpen();
    }
    lock.lock();
    try {
      if (target > durableOrdinal) {
        durableOrdinal = target;
        durableAdvanced.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** The highest seq held for this boot id (unsigned), or 0 when none. */
  public long lastSeq(long bootId) {
    lock.lock();
    try {
      return haveCur && curBoot == bootId ? curSeq : boots.getOrDefault(bootId, 0L);
    } finally {
      lock.unlock();
    }
  }

  /** Records dropped as duplicates since open. */
  public long duplicates() {
    lock.lock();
    try {
      return duplicates;
    } finally {
      lock.unlock();
    }
  }

  /** Ordinal (position in the VM's whole log, from 0) of the oldest record still kept. */
  public long firstOrdinal() {
    return segments.getFirst().baseOrdinal;
  }

  /** Ordinal one past the newest durable record: the number of records ever made durable. */
  public long endOrdinal() {
    return durableOrdinal;
  }

  /** A cursor at the given ordinal (clamped to what is kept). */
  public LogCursor cursor(long ordinal) {
    return new LogCursor(this, Math.max(ordinal, firstOrdinal()), null, 0, false);
  }

  /** A cursor at the n-th newest durable record; follow it to read the rest as it comes. */
  public LogCursor tailCursor(long n) {
    long end = durableOrdinal;
    return cursor(n >= end ? 0 : end - n);
  }

  /** A cursor over records whose time on {@code base} is ≥ {@code timeNs}. */
  public LogCursor sinceCursor(long timeNs, TimeBase base) {
    return new LogCursor(this, firstOrdinal(), base, timeNs, true);
  }

  /**
   * A cursor at the n-th newest durable record that returns only records with time ≥ {@code timeNs}
   * on {@code base} ({@code docker logs --tail N --since T}: the last N, then the time filter).
   */
  public LogCursor tailCursor(long n, long timeNs, TimeBase base) {
    long end = durableOrdinal;
    long start = Math.max(n >= end ? 0 : end - n, firstOrdinal());
    return new LogCursor(this, start, base, timeNs, false);
  }

  /** The n newest durable records, oldest first. */
  public List<LogRecord> tail(long n) throws IOException {
    try (LogCursor c = tailCursor(n)) {
      return c.drain();
    }
  }

  /** Durable records with time ≥ {@code timeNs} on {@code base}, oldest first. */
  public List<LogRecord> since(long timeNs, TimeBase base) throws IOException {
    try (LogCursor c = sinceCursor(timeNs, base)) {
      return c.drain();
    }
  }

  /** Where a reader starts: a segment, a file offset in it, and the ordinal of the record there. */
  record Position(Segment segment, long offset, long ordinal) {}

  /** The indexed position at or before {@code ordinal}; null when no durable record is kept. */
  Position locate(long ordinal) {
    lock.lock();
    try {
      List<Segment> segs = segments;
      for (int i = segs.size() - 1; i >= 0; i--) {
        Segment s = segs.get(i);
        if (s.baseOrdinal <= ordinal || i == 0) {
          int e = s.entryAtOrBefore(ordinal);
          return e < 0
              ? new Position(s, s.headerSize, s.baseOrdinal)
              : new Position(s, s.offset(e), s.ordinal(e));
        }
      }
      return null;
    } finally {
      lock.unlock();
    }
  }

  /** The last indexed position before which every record is older than {@code t}. */
  Position locateTime(long t, TimeBase base) {
    lock.lock();
    try {
      List<Segment> segs = segments;
      for (int i = segs.size() - 1; i >= 0; i--) {
        Segment s = segs.get(i);
        int e = s.lastEntryAllBefore(t, base);
        if (e >= 0) {
          return new Position(s, s.offset(e), s.ordinal(e));
        }
      }
      Segment first = segs.getFirst();
      return new Position(first, first.headerSize, first.baseOrdinal);
    } finally {
      lock.unlock();
    }
  }

  /** The kept segment holding {@code ordinal}, or the oldest kept one when it was pruned. */
  Segment segmentFor(long ordinal) {
    List<Segment> segs = segments;
    for (int i = segs.size() - 1; i >= 0; i--) {
      if (segs.get(i).baseOrdinal <= ordinal) {
        return segs.get(i);
      }
    }
    return segs.getFirst();
  }

  long durableOrdinal() {
    return durableOrdinal;
  }

  /** Whether {@link #close} was called. */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Wakes the readers waiting for records ({@link LogCursor#next(java.time.Duration)}) so that they
   * look at their own end condition at once: a VM that exited, whose store stays open for later
   * reads, writes nothing more, and a follower would otherwise wait out its timeout.
   */
  public void wakeReaders() {
    lock.lock();
    try {
      wakeups++;
      durableAdvanced.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * The count of {@link #wakeReaders} calls so far. A reader that takes it before it checks its end
   * condition and passes it to {@link LogCursor#next(java.time.Duration, long)} cannot miss a wake
   * that comes between the check and the wait.
   */
  public long wakeTicket() {
    lock.lock();
    try {
      return wakeups;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until a record with this ordinal is durable; false on timeout, close or a {@link
   * #wakeReaders} after {@code ticket} was taken.
   */
  boolean awaitDurable(long ordinal, long timeoutNanos, long ticket) throws InterruptedException {
    lock.lock();
    try {
      long left = timeoutNanos;
      while (durableOrdinal <= ordinal && !closed && wakeups == ticket) {
        if (left <= 0) {
          return false;
        }
        left = durableAdvanced.awaitNanos(left);
      }
      return durableOrdinal > ordinal;
    } finally {
      lock.unlock();
    }
  }

  /** Folds the current boot's seq into the boot table (newest last). */
  private void syncBoots() {
    if (haveCur && curSeq != 0) {
      boots.remove(curBoot);
      boots.put(curBoot, curSeq);
    }
  }

  private void ensureWritable() throws IOException {
    ensureOpen();
    if (dirLock == null) {
      throw new IOException("log store " + dir + " was opened read-only");
    }
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new ClosedChannelException();
    }
  }

  private void flushBuffer() throws IOException {
    writeBuf.flip();
    long at = activeEnd - writeBuf.remaining();
    while (writeBuf.hasRemaining()) {
      at += activeCh.write(writeBuf, at);
    }
    writeBuf.clear();
    if (active.persistedEntries < active.entries()) {
      ByteBuffer idx = active.entryBytes(active.persistedEntries);
      long pos = (long) active.persistedEntries * Segment.INDEX_ENTRY;
      while (idx.hasRemaining()) {
        pos += activeIdx.write(idx, pos);
      }
      active.persistedEntries = active.entries();
    }
  }

  private void rotate() throws IOException {
    flushBuffer();
    activeCh.force(false);
    activeIdx.force(false);
    activeCh.close();
    activeIdx.close();
    active.endOrdinal = nextOrdinal;
    syncBoots();
    Segment next = Recovery.createSegment(dir, nextOrdinal, maxHost, maxGuest, boots);
    active = next;
    activeCh = FileChannel.open(next.path, StandardOpenOption.WRITE, StandardOpenOption.READ);
    activeIdx =
        FileChannel.open(
            next.indexPath,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING);
    activeEnd = next.headerSize;
    bytesSinceIndex = 0;
    List<Segment> segs = new ArrayList<>(segments);
    segs.add(next);
    while (segs.size() > options.maxFiles()) {
      Segment old = segs.removeFirst();
      Files.deleteIfExists(old.path);
      Files.deleteIfExists(old.indexPath);
    }
    segments = List.copyOf(segs);
  }

  /** Forces what was appended and closes; readers blocked in follow return. */
  @Override
  public void close() throws IOException {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      if (dirLock == null) {
        closed = true;
        durableAdvanced.signalAll();
        return;
      }
      try {
        flushBuffer();
        activeCh.force(false);
        durableOrdinal = nextOrdinal;
      } finally {
        closed = true;
        activeCh.close();
        activeIdx.close();
        dirLock.channel().close(); // releases the lock
        durableAdvanced.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Opening a store: finds the segments, validates the newest one, rebuilds what was lost. */
  private static final class Recovery {
    final List<Segment> segments = new ArrayList<>();
    LinkedHashMap<Long, Long> boots = new LinkedHashMap<>();
    FileChannel activeCh;
    FileChannel activeIdx;
    long activeEnd;
    long nextOrdinal;
    long maxHost = Long.MIN_VALUE;
    long maxGuest = Long.MIN_VALUE;
    long bytesSinceIndex;

    final int indexInterval;
    final boolean readOnly;

    Recovery(int indexInterval, boolean readOnly) {
      this.indexInterval = indexInterval;
      this.readOnly = readOnly;
    }

    /** A store with nothing in it (read-only view of a missing directory). */
    static Recovery empty(Path dir) {
      Recovery r = new Recovery(1, true);
      r.segments.add(new Segment(dir, 0, SegmentFormat.headerSize(0)));
      return r;
    }

    static Recovery run(Path dir, int indexInterval, boolean readOnly) throws IOException {
      Recovery r = new Recovery(indexInterval, readOnly);
      List<Long> bases = new ArrayList<>();
      try (Stream<Path> files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          String name = p.getFileName().toString();
          if (name.matches("\\d{20}\\.seg")) {
            bases.add(Long.parseLong(name.substring(0, 20)));
          }
        }
      }
      bases.sort(null);
      // The newest segment with a valid header is the active one. A newer one with a torn header
      // never held a record (headers are forced before the first append), so it is set aside.
      SegmentFormat.Header activeHeader = null;
      while (!bases.isEmpty()) {
        long base = bases.getLast();
        Path p = dir.resolve(SegmentFormat.fileName(base));
        activeHeader = readHeader(p);
        if (activeHeader != null && activeHeader.baseOrdinal() == base) {
          break;
        }
        activeHeader = null;
        if (!readOnly) {
          Files.move(
              p,
              p.resolveSibling(p.getFileName() + ".corrupt"),
              StandardCopyOption.REPLACE_EXISTING);
          Files.deleteIfExists(dir.resolve(SegmentFormat.indexName(base)));
        }
        bases.removeLast();
      }
      for (int i = 0; i < bases.size() - 1; i++) {
        r.segments.add(r.loadSealed(dir, bases.get(i), bases.get(i + 1)));
      }
      Segment active;
      if (activeHeader == null && readOnly) {
        return empty(dir);
      }
      if (activeHeader == null) {
        active = createSegment(dir, 0, Long.MIN_VALUE, Long.MIN_VALUE, new LinkedHashMap<>());
        activeHeader = readHeader(active.path);
      } else {
        active = new Segment(dir, activeHeader.baseOrdinal(), activeHeader.size());
      }
      r.segments.add(active);
      r.recoverActive(active, activeHeader);
      return r;
    }

    static SegmentFormat.Header readHeader(Path p) throws IOException {
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
        ByteBuffer b =
            ByteBuffer.allocate(SegmentFormat.headerSize(SegmentFormat.MAX_BOOTS_IN_HEADER));
        while (b.hasRemaining() && ch.read(b) > 0) {
          // fill
        }
        return SegmentFormat.parseHeader(b.flip());
      }
    }

    static Segment createSegment(
        Path dir, long base, long maxHost, long maxGuest, Map<Long, Long> boots)
        throws IOException {
      ByteBuffer h = SegmentFormat.header(base, maxHost, maxGuest, boots);
      Segment s = new Segment(dir, base, h.remaining());
      try (FileChannel ch =
          FileChannel.open(
              s.path,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        while (h.hasRemaining()) {
          ch.write(h);
        }
        ch.force(true);
      }
      Files.deleteIfExists(s.indexPath);
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true); // the new file's directory entry
      }
      return s;
    }

    Segment loadSealed(Path dir, long base, long end) throws IOException {
      Path p = dir.resolve(SegmentFormat.fileName(base));
      SegmentFormat.Header h = readHeader(p);
      if (h == null || h.baseOrdinal() != base) {
        throw new CorruptLogException(
            "log segment "
                + p
                + " has a corrupt header; move it out of the log directory to read the rest");
      }
      Segment s = new Segment(dir, base, h.size());
      s.endOrdinal = end;
      long size = Files.size(p);
      try {
        ByteBuffer idx = ByteBuffer.wrap(Files.readAllBytes(s.indexPath));
        if (s.loadEntries(idx, size, end)) {
          return s;
        }
      } catch (NoSuchFileException e) {
        // rebuilt below
      }
      s = new Segment(dir, base, h.size());
      s.endOrdinal = end;
      long ordinal = base;
      long sinceIndex = Long.MAX_VALUE;
      long mh = h.maxHost();
      long mg = h.maxGuest();
      try (SegmentReader rd = new SegmentReader(p, h.size())) {
        for (long off = rd.offset(); ; off = rd.offset()) {
          LogRecord rec = rd.next();
          if (rec == null) {
            break;
          }
          if (sinceIndex >= indexInterval) {
            s.addEntry(off, ordinal, mh, mg);
            sinceIndex = 0;
          }
          sinceIndex += rd.offset() - off;
          mh = Math.max(mh, rec.hostTimeNs());
          mg = Math.max(mg, rec.guestTimeNs());
          ordinal++;
        }
      }
      if (!readOnly) {
        writeIndex(s);
      }
      return s;
    }

    static void writeIndex(Segment s) throws IOException {
      try (FileChannel ch =
          FileChannel.open(
              s.indexPath,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer b = s.entryBytes(0);
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
      s.persistedEntries = s.entries();
    }

    /**
     * Scans the active segment: restores boots and maxima, cuts a torn tail, rebuilds the index.
     */
    void recoverActive(Segment s, SegmentFormat.Header h) throws IOException {
      boots = new LinkedHashMap<>(h.boots());
      maxHost = h.maxHost();
      maxGuest = h.maxGuest();
      nextOrdinal = s.baseOrdinal;
      long sinceIndex = 0;
      long end;
      try (SegmentReader rd = new SegmentReader(s.path, h.size())) {
        for (long off = rd.offset(); ; off = rd.offset()) {
          LogRecord rec = rd.next();
          if (rec == null) {
            end = off;
            break;
          }
          if (s.entries() == 0 || sinceIndex >= indexInterval) {
            s.addEntry(off, nextOrdinal, maxHost, maxGuest);
            sinceIndex = 0;
          }
          sinceIndex += rd.offset() - off;
          maxHost = Math.max(maxHost, rec.hostTimeNs());
          maxGuest = Math.max(maxGuest, rec.guestTimeNs());
          boots.remove(rec.bootId());
          boots.put(rec.bootId(), rec.seq());
          nextOrdinal++;
        }
      }
      activeEnd = end;
      bytesSinceIndex = sinceIndex;
      if (readOnly) {
        return;
      }
      activeCh = FileChannel.open(s.path, StandardOpenOption.WRITE, StandardOpenOption.READ);
      if (activeCh.size() > end) {
        activeCh.truncate(end); // a torn last record: never acked, init resends it
        activeCh.force(false);
      }
      writeIndex(s);
      activeIdx = FileChannel.open(s.indexPath, StandardOpenOption.WRITE);
    }
  }

  /** For tests and diagnostics: the segment files currently kept, oldest first. */
  public List<Path> segmentFiles() {
    return segments.stream().map(s -> s.path).toList();
  }
}
