package dev.inferno.kiln.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogStoreTest {
  static final long BOOT = 0x1234L;
  static final LogStore.Options SMALL_INDEX = new LogStore.Options(1 << 30, 5, 300);

  @TempDir Path dir;

  static LogRecord rec(long boot, long seq, long guest, long host) {
    byte[] data = ("line " + seq + " of boot " + boot + "\n").getBytes(StandardCharsets.UTF_8);
    return new LogRecord((int) (seq % 3) + 1, boot, seq, guest, host, data);
  }

  static List<LogRecord> fill(LogStore s, long boot, int from, int to) throws IOException {
    List<LogRecord> out = new ArrayList<>();
    for (int i = from; i <= to; i++) {
      LogRecord r = rec(boot, i, 1_000L * i, 2_000L * i);
      assertThat(s.append(r)).isTrue();
      out.add(r);
    }
    s.force();
    return out;
  }

  @Test
  void tailReturnsTheNewestRecordsInOrder() throws IOException {
    try (LogStore s = LogStore.open(dir, SMALL_INDEX)) {
      List<LogRecord> all = fill(s, BOOT, 1, 1000);
      assertThat(s.tail(10)).containsExactlyElementsOf(all.subList(990, 1000));
      assertThat(s.tail(1)).containsExactly(all.getLast());
      assertThat(s.tail(0)).isEmpty();
      assertThat(s.tail(5000)).containsExactlyElementsOf(all);
      assertThat(s.cursor(0).drain()).containsExactlyElementsOf(all);
      for (int n : new int[] {7, 33, 100, 777}) {
        assertThat(s.tail(n))
            .as("tail %d", n)
            .containsExactlyElementsOf(all.subList(1000 - n, 1000));
      }
    }
  }

  @Test
  void recordsAreInvisibleUntilForced() throws IOException {
    try (LogStore s = LogStore.open(dir)) {
      s.append(rec(BOOT, 1, 1, 1));
      assertThat(s.tail(10)).isEmpty();
      assertThat(s.endOrdinal()).isZero();
      s.force();
      assertThat(s.tail(10)).hasSize(1);
      assertThat(s.endOrdinal()).isEqualTo(1);
    }
  }

  @Test
  void sinceIsExactOnBothClocksEvenWhenTheyStepBack() throws IOException {
    Random rnd = new Random(7);
    List<LogRecord> all = new ArrayList<>();
    try (LogStore s = LogStore.open(dir, SMALL_INDEX)) {
      long guest = 1_000_000;
      long host = 5_000_000;
      for (int i = 1; i <= 3000; i++) {
        guest += rnd.nextInt(100) - (rnd.nextInt(50) == 0 ? 3000 : 0); // occasional step back
        host += rnd.nextInt(100);
        LogRecord r = rec(BOOT, i, guest, host);
        s.append(r);
        all.add(r);
        if (i % 97 == 0) {
          s.force();
        }
      }
      s.force();
      for (int k = 0; k < 40; k++) {
        long tg = 1_000_000L + rnd.nextInt(160_000);
        long th = 5_000_000L + rnd.nextInt(160_000);
        assertThat(s.since(tg, TimeBase.GUEST))
            .as("guest since %d", tg)
            .containsExactlyElementsOf(all.stream().filter(r -> r.guestTimeNs() >= tg).toList());
        assertThat(s.since(th, TimeBase.HOST))
            .as("host since %d", th)
            .containsExactlyElementsOf(all.stream().filter(r -> r.hostTimeNs() >= th).toList());
      }
      assertThat(s.since(Long.MAX_VALUE, TimeBase.HOST)).isEmpty();
      assertThat(s.since(Long.MIN_VALUE, TimeBase.GUEST)).containsExactlyElementsOf(all);
    }
  }

  @Test
  void followWakesOnForceAndEndsOnClose() throws Exception {
    LogStore s = LogStore.open(dir);
    List<LogRecord> first = fill(s, BOOT, 1, 5);
    CompletableFuture<List<LogRecord>> seen = new CompletableFuture<>();
    // placed here, not in the thread: the records appended below come after it however late the
    // thread starts
    LogCursor cursor = s.tailCursor(2);
    Thread follower =
        Thread.ofVirtual()
            .start(() -> {
              List<LogRecord> got = new ArrayList<>();
              try (LogCursor c = cursor) {
                for (LogRecord r = c.next(Duration.ofSeconds(30));
                    r != null;
                    r = c.next(Duration.ofSeconds(30))) {
                  got.add(r);
                }
                seen.complete(got);
              } catch (Exception e) {
                seen.completeExceptionally(e);
              }
            });
    Thread.sleep(100);
    List<LogRecord> later = new ArrayList<>();
    for (int i = 6; i <= 50; i++) {
      LogRecord r = rec(BOOT, i, i, i);
      s.append(r);
      later.add(r);
      if (i % 10 == 0) {
        s.force();
        Thread.sleep(5);
      }
    }
    s.close(); // forces the rest and ends the follow
    List<LogRecord> expected = new ArrayList<>(first.subList(3, 5));
    expected.addAll(later);
    assertThat(seen.get(10, TimeUnit.SECONDS)).containsExactlyElementsOf(expected);
    follower.join();
  }

  @Test
  void wakeReadersEndsAFollowersWaitAndTheStoreStaysOpen() throws Exception {
    try (LogStore s = LogStore.open(dir);
        LogCursor c = s.tailCursor(0)) {
      CompletableFuture<LogRecord> next = new CompletableFuture<>();
      // taken here: a wake is seen even when the thread reaches its wait only after it
      long ticket = s.wakeTicket();
      Thread follower =
          Thread.ofVirtual()
              .start(() -> {
                try {
                  next.complete(c.next(Duration.ofMinutes(10), ticket));
                } catch (Exception e) {
                  next.completeExceptionally(e);
                }
              });
      Thread.sleep(100); // the follower waits for a record
      assertThat(next).isNotDone();
      s.wakeReaders(); // e.g. the VM exited: its store stays open for later reads
      // it returns long before its own 10 minutes: empty-handed, to look at its end condition
      assertThat(next.get(30, TimeUnit.SECONDS)).isNull();
      follower.join();
      assertThat(s.isClosed()).isFalse();
      List<LogRecord> more = fill(s, BOOT, 1, 2);
      assertThat(c.next(Duration.ofSeconds(5))).isEqualTo(more.getFirst());
    }
  }

  @Test
  void aWakeAfterTheTicketWasTakenIsNotMissedByTheWaitThatFollows() throws Exception {
    try (LogStore s = LogStore.open(dir);
        LogCursor c = s.tailCursor(0)) {
      long ticket = s.wakeTicket(); // a follower takes it, then checks whether its VM is gone
      s.wakeReaders(); // the VM exits between that check and the wait
      long t0 = System.nanoTime();
      assertThat(c.next(Duration.ofMinutes(10), ticket)).isNull();
      assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(5));
      // a fresh ticket waits again, until its timeout
      long t1 = System.nanoTime();
      assertThat(c.next(Duration.ofMillis(100), s.wakeTicket())).isNull();
      assertThat(System.nanoTime() - t1).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  @Test
  void followTimesOutWithNull() throws Exception {
    try (LogStore s = LogStore.open(dir);
        LogCursor c = s.tailCursor(0)) {
      long t0 = System.nanoTime();
      assertThat(c.next(Duration.ofMillis(50))).isNull();
      assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

  @Test
  void rotatesAndKeepsOnlyMaxFiles() throws IOException {
    LogStore.Options opts = new LogStore.Options(4096, 3, 512);
    List<LogRecord> all;
    try (LogStore s = LogStore.open(dir, opts)) {
      all = fill(s, BOOT, 1, 2000);
      assertThat(s.segmentFiles()).hasSize(3);
      for (Path p : s.segmentFiles()) {
        assertThat(Files.size(p)).isLessThanOrEqualTo(4096);
      }
      try (var files = Files.list(dir)) {
        assertThat(files.filter(p -> p.toString().endsWith(".seg")).count()).isEqualTo(3);
      }
      long first = s.firstOrdinal();
      assertThat(first).isGreaterThan(1500);
      List<LogRecord> kept = all.subList((int) first, 2000);
      assertThat(s.cursor(0).drain()).containsExactlyElementsOf(kept);
      assertThat(s.tail(50)).containsExactlyElementsOf(all.subList(1950, 2000));
      assertThat(s.since(0, TimeBase.HOST)).containsExactlyElementsOf(kept);
    }
    try (LogStore s = LogStore.open(dir, opts)) {
      assertThat(s.tail(50)).containsExactlyElementsOf(all.subList(1950, 2000));
      assertThat(s.endOrdinal()).isEqualTo(2000);
      assertThat(s.lastSeq(BOOT)).isEqualTo(2000);
    }
  }

  @Test
  void aCursorThatLagsBehindRetentionSkipsToWhatIsKept() throws IOException {
    LogStore.Options opts = new LogStore.Options(4096, 2, 512);
    try (LogStore s = LogStore.open(dir, opts)) {
      fill(s, BOOT, 1, 10);
      try (LogCursor c = s.cursor(0)) {
        assertThat(c.next().seq()).isEqualTo(1);
        List<LogRecord> all = fill(s, BOOT, 11, 1000);
        List<LogRecord> rest = c.drain();
        // what the cursor had buffered of its (deleted) segment, then the kept segments in order,
        // no duplicates
        assertThat(rest).isSortedAccordingTo((a, b) -> Long.compare(a.seq(), b.seq()));
        assertThat(rest.getLast()).isEqualTo(all.getLast());
        assertThat(rest.stream().map(LogRecord::seq).distinct().count()).isEqualTo(rest.size());
      }
    }
  }

  @Test
  void dropsDuplicatesPerBootAndRemembersAcrossReopenAndRotation() throws IOException {
    LogStore.Options opts = new LogStore.Options(4096, 10, 512);
    long other = 0xBEEFL;
    try (LogStore s = LogStore.open(dir, opts)) {
      fill(
          s, other, 1,
          7); // an earlier boot, then much of the current one: other's seqs live in old segments
      fill(s, BOOT, 1, 500);
      assertThat(s.segmentFiles().size()).isGreaterThan(3);
      assertThat(s.append(rec(BOOT, 500, 1, 1))).isFalse();
      assertThat(s.append(rec(BOOT, 3, 1, 1))).isFalse();
      assertThat(s.duplicates()).isEqualTo(2);
    }
    try (LogStore s = LogStore.open(dir, opts)) {
      assertThat(s.lastSeq(BOOT)).isEqualTo(500);
      assertThat(s.lastSeq(other)).isEqualTo(7);
      assertThat(s.lastSeq(42)).isZero();
      assertThat(s.append(rec(other, 7, 1, 1))).isFalse();
      assertThat(s.append(rec(BOOT, 500, 1, 1))).isFalse();
      assertThat(s.append(rec(BOOT, 501, 1, 1))).isTrue();
      assertThat(s.append(rec(other, 8, 1, 1))).isTrue();
      // u64 seqs compare unsigned
      assertThat(s.append(rec(42, -1L, 1, 1))).isTrue();
      assertThat(s.append(rec(42, 5, 1, 1))).isFalse();
      s.force();
      assertThat(s.tail(3).stream().map(LogRecord::seq)).containsExactly(501L, 8L, -1L);
    }
  }

  @Test
  void recoversFromATornLastRecord() throws IOException {
    List<LogRecord> all;
    Path seg;
    try (LogStore s = LogStore.open(dir, SMALL_INDEX)) {
      all = fill(s, BOOT, 1, 100);
      seg = s.segmentFiles().getLast();
    }
    long goodSize = Files.size(seg);
    // a crash in the middle of writing record 101: its head and part of its body reached the file
    ByteBuffer b = ByteBuffer.allocate(200);
    SegmentFormat.writeRecord(b, rec(BOOT, 101, 1, 1), new CRC32C());
    try (FileChannel ch =
        FileChannel.open(seg, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ch.write(b.flip().limit(20));
    }
    assertThat(Files.size(seg)).isEqualTo(goodSize + 20);
    try (LogStore s = LogStore.open(dir, SMALL_INDEX)) {
      assertThat(Files.size(seg)).isEqualTo(goodSize);
      assertThat(s.lastSeq(BOOT)).isEqualTo(100);
      assertThat(s.tail(1000)).containsExactlyElementsOf(all);
      List<LogRecord> more = fill(s, BOOT, 101, 120); // init's resend of the unacked record and on
      List<LogRecord> expected = new ArrayList<>(all);
      expected.addAll(more);
      assertThat(s.cursor(0).drain()).containsExactlyElementsOf(expected);
    }
    // garbage (a corrupt record) at the end is cut too
    try (FileChannel ch =
        FileChannel.open(seg, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ch.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 40, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    }
    try (LogStore s = LogStore.open(dir, SMALL_INDEX)) {
      assertThat(s.lastSeq(BOOT)).isEqualTo(120);
      assertThat(s.tail(1).getFirst().seq()).isEqualTo(120);
    }
  }

  @Test
  void rebuildsLostIndexesOnOpen() throws IOException {
    LogStore.Options opts = new LogStore.Options(8192, 10, 256);
    List<LogRecord> all;
    try (LogStore s = LogStore.open(dir, opts)) {
      all = fill(s, BOOT, 1, 600);
      assertThat(s.segmentFiles().size()).isGreaterThan(2);
    }
    try (var files = Files.list(dir)) {
      for (Path p : files.filter(p -> p.toString().endsWith(".idx")).toList()) {
        Files.delete(p);
      }
    }
    try (LogStore s = LogStore.open(dir, opts)) {
      assertThat(s.tail(123)).containsExactlyElementsOf(all.subList(477, 600));
      assertThat(s.since(2_000L * 300, TimeBase.HOST))
          .containsExactlyElementsOf(all.subList(299, 600));
      assertThat(s.cursor(0).drain()).containsExactlyElementsOf(all);
    }
    try (var files = Files.list(dir)) {
      assertThat(files.filter(p -> p.toString().endsWith(".idx")).count()).isGreaterThan(2);
    }
  }

  @Test
  void aNewSegmentWithATornHeaderIsSetAside() throws IOException {
    List<LogRecord> all;
    try (LogStore s = LogStore.open(dir, SMALL_INDEX)) {
      all = fill(s, BOOT, 1, 10);
    }
    Path torn = dir.resolve(SegmentFormat.fileName(10));
    Files.write(torn, new byte[] {'I', 'N', 'F'});
    try (LogStore s = LogStore.open(dir, SMALL_INDEX)) {
      assertThat(s.tail(100)).containsExactlyElementsOf(all);
      assertThat(s.append(rec(BOOT, 11, 1, 1))).isTrue();
      s.force();
      assertThat(s.tail(1).getFirst().seq()).isEqualTo(11);
    }
    assertThat(torn.resolveSibling(torn.getFileName() + ".corrupt")).exists();
  }

  @Test
  void forceRacesWithAppendsAndRotationWithoutLosingAnything() throws Exception {
    LogStore.Options opts = new LogStore.Options(16384, 1000, 1024);
    try (LogStore s = LogStore.open(dir, opts)) {
      java.util.concurrent.atomic.AtomicBoolean stop =
          new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicReference<Throwable> failed =
          new java.util.concurrent.atomic.AtomicReference<>();
      long[] forces = {0};
      Thread committer =
          Thread.ofVirtual()
              .start(() -> {
                try {
                  while (!stop.get()) {
                    s.force();
                    forces[0]++;
                  }
                } catch (IOException | RuntimeException e) {
                  failed.set(e); // a force that fails under the race must fail the test
                }
              });
      List<LogRecord> all = new ArrayList<>();
      for (int i = 1; i <= 5000; i++) {
        LogRecord r = rec(BOOT, i, i, i);
        s.append(r);
        all.add(r);
      }
      stop.set(true); // not interrupt(): an interrupt closes a FileChannel in use
      committer.join();
      assertThat(failed.get()).isNull();
      assertThat(forces[0]).isPositive();
      s.force();
      assertThat(s.cursor(0).drain()).containsExactlyElementsOf(all);
    }
  }

  @Test
  void pageCacheDurabilityPublishesOnForceAndSurvivesReopen() throws IOException {
    LogStore.Options opts = new LogStore.Options(8192, 10, 512, LogStore.Durability.PAGE_CACHE);
    List<LogRecord> all;
    try (LogStore s = LogStore.open(dir, opts)) {
      s.append(rec(BOOT, 1, 1, 1));
      assertThat(s.tail(5)).isEmpty();
      s.force();
      assertThat(s.tail(5)).hasSize(1);
      all = new ArrayList<>(s.tail(5));
      all.addAll(fill(s, BOOT, 2, 300));
    }
    try (LogStore s = LogStore.open(dir, opts)) {
      assertThat(s.cursor(0).drain()).containsExactlyElementsOf(all);
      assertThat(s.lastSeq(BOOT)).isEqualTo(300);
    }
  }

  @Test
  void tailAndSinceReadAtMostOneIndexIntervalTheyDoNotReturn() throws IOException {
    LogStore.Options opts = new LogStore.Options(1 << 20, 100, 4096);
    try (LogStore s = LogStore.open(dir, opts)) {
      List<LogRecord> all = fill(s, BOOT, 1, 50_000); // ~2.5 MB in 3+ segments
      assertThat(s.segmentFiles().size()).isGreaterThan(2);
      int perInterval = 4096 / 60 + 2; // records here are ~60 bytes on disk
      try (LogCursor c = s.tailCursor(10)) {
        assertThat(c.drain()).containsExactlyElementsOf(all.subList(49_990, 50_000));
        assertThat(c.scanned()).isLessThanOrEqualTo(10L + perInterval);
      }
      try (LogCursor c = s.sinceCursor(2_000L * 25_000, TimeBase.HOST)) {
        assertThat(c.next()).isEqualTo(all.get(24_999));
        assertThat(c.scanned()).isLessThanOrEqualTo(1L + perInterval);
      }
      try (LogCursor c = s.sinceCursor(1_000L * 40_000, TimeBase.GUEST)) {
        assertThat(c.next()).isEqualTo(all.get(39_999));
        assertThat(c.scanned()).isLessThanOrEqualTo(1L + perInterval);
      }
    }
  }

  @Test
  void tailWithSinceTakesTheLastNThenFiltersByTime() throws IOException {
    try (LogStore s = LogStore.open(dir, SMALL_INDEX)) {
      List<LogRecord> all = fill(s, BOOT, 1, 500); // host time = 2000 × seq
      try (LogCursor c = s.tailCursor(100, 2_000L * 450, TimeBase.HOST)) {
        assertThat(c.drain()).containsExactlyElementsOf(all.subList(449, 500));
      }
      try (LogCursor c = s.tailCursor(10, 2_000L * 100, TimeBase.HOST)) {
        assertThat(c.drain()).containsExactlyElementsOf(all.subList(490, 500));
      }
      try (LogCursor c = s.tailCursor(10, Long.MAX_VALUE, TimeBase.GUEST)) {
        assertThat(c.drain()).isEmpty();
      }
    }
  }

  @Test
  void oneWriterPerDirectory() throws IOException {
    try (LogStore s = LogStore.open(dir)) {
      fill(s, BOOT, 1, 3);
      assertThatThrownBy(() -> LogStore.open(dir))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("already open for writing")
          .hasMessageContaining("openReadOnly");
    }
    try (LogStore s = LogStore.open(dir)) { // released on close
      assertThat(s.lastSeq(BOOT)).isEqualTo(3);
    }
  }

  @Test
  void readOnlyViewChangesNothingAndWorksBesideAWriter() throws IOException {
    List<LogRecord> all;
    Path seg;
    try (LogStore s = LogStore.open(dir, SMALL_INDEX)) {
      all = fill(s, BOOT, 1, 200);
      seg = s.segmentFiles().getLast();
    }
    Files.write(seg, new byte[] {0, 0, 0, 99, 1}, StandardOpenOption.APPEND); // a torn tail
    long size = Files.size(seg);
    try (LogStore w = LogStore.open(dir.resolve("other"));
        LogStore r = LogStore.openReadOnly(dir)) {
      assertThat(w.isReadOnly()).isFalse();
      assertThat(r.isReadOnly()).isTrue();
      assertThat(r.tail(10)).containsExactlyElementsOf(all.subList(190, 200));
      assertThat(r.since(2_000L * 150, TimeBase.HOST))
          .containsExactlyElementsOf(all.subList(149, 200));
      assertThatThrownBy(() -> r.append(rec(BOOT, 201, 1, 1))).hasMessageContaining("read-only");
    }
    assertThat(Files.size(seg))
        .isEqualTo(size); // the torn tail is the writer's to cut, not a reader's
    try (LogStore w = LogStore.open(dir, SMALL_INDEX);
        LogStore r = LogStore.openReadOnly(dir)) {
      assertThat(r.cursor(0).drain()).containsExactlyElementsOf(all);
      assertThat(w.lastSeq(BOOT)).isEqualTo(200);
    }
    try (LogStore r = LogStore.openReadOnly(dir.resolve("missing"))) {
      assertThat(r.tail(10)).isEmpty();
      assertThat(r.endOrdinal()).isZero();
    }
    assertThat(dir.resolve("missing")).doesNotExist();
  }
}
