package dev.inferno.kiln.logs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.inferno.kiln.testing.NdjsonCollector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogSinkTest {
  @TempDir Path dir;

  static LogRecord rec(long seq, String text) {
    return new LogRecord(
        seq % 2 == 0 ? LogRecord.STDERR : LogRecord.STDOUT,
        0xabcL,
        seq,
        1_764_355_200_123_456_789L,
        1_764_355_201_000_000_001L,
        text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void forwardsDurableRecordsAsNdjson() throws Exception {
    Path sock = dir.resolve("vector.sock");
    try (NdjsonCollector col = new NdjsonCollector(sock);
        LogStore store = LogStore.open(dir.resolve("logs"));
        LogSink sink = new LogSink(sock, 100)) {
      sink.follow(store, "9f86d081884c7d65", "web-1");
      store.append(rec(1, "hello ü\n"));
      store.append(rec(2, "no newline"));
      store.force();
      col.awaitLines(2);
      JsonNode l = col.lines.getFirst();
      assertThat(l.get("vm_id").asText()).isEqualTo("9f86d081884c7d65");
      assertThat(l.get("vm_name").asText()).isEqualTo("web-1");
      assertThat(l.get("stream").asText()).isEqualTo("stdout");
      assertThat(l.get("message").asText()).isEqualTo("hello ü");
      assertThat(l.get("timestamp").asText()).isEqualTo("2025-11-28T18:40:01.000000001Z");
      assertThat(l.get("guest_timestamp").asText()).isEqualTo("2025-11-28T18:40:00.123456789Z");
      assertThat(l.get("seq").asText()).isEqualTo("1");
      assertThat(col.lines.get(1).get("stream").asText()).isEqualTo("stderr");
      assertThat(col.lines.get(1).get("message").asText()).isEqualTo("no newline");
    }
  }

  @Test
  void dropsAndCountsWhileTheCollectorIsAwayThenReconnects() throws Exception {
    Path sock = dir.resolve("vector.sock");
    try (LogSink sink = new LogSink(sock, 10)) {
      for (int i = 1; i <= 25; i++) {
        sink.offer("vm", "name", rec(i, "line " + i + "\n")); // never blocks
      }
      assertThat(sink.dropped()).isEqualTo(15);
      try (NdjsonCollector col = new NdjsonCollector(sock)) {
        col.awaitLines(10); // the queued ones, once the collector is up
        assertThat(col.lines.stream().map(n -> n.get("message").asText()))
            .containsExactly(
                "line 1", "line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8",
                "line 9", "line 10");
        assertThat(sink.sent()).isEqualTo(10);
      }
      // the collector restarts: the sink reconnects and goes on
      try (NdjsonCollector col = new NdjsonCollector(sock)) {
        long deadline = System.currentTimeMillis() + 15_000;
        while (sink.connects() < 2 && System.currentTimeMillis() < deadline) {
          sink.offer("vm", "name", rec(99, "probe\n"));
          Thread.sleep(50);
        }
        sink.offer("vm", "name", rec(100, "after restart\n"));
        col.awaitLines(1);
        long end = System.currentTimeMillis() + 15_000;
        while (col.lines.stream().noneMatch(n -> n.get("message").asText().equals("after restart"))
            && System.currentTimeMillis() < end) {
          Thread.sleep(10);
        }
        assertThat(col.lines.stream().map(n -> n.get("message").asText()))
            .contains("after restart");
      }
    }
  }

  @Test
  void closeWithGraceSendsWhatWasDurableWhenTheStoreClosed() throws Exception {
    Path sock = dir.resolve("vector.sock");
    try (NdjsonCollector col = new NdjsonCollector(sock)) {
      LogSink sink = new LogSink(sock, 1000);
      LogStore store = LogStore.open(dir.resolve("logs"));
      sink.follow(store, "vm", "name"); // no sleep: the cursor is placed by follow itself
      for (int i = 1; i <= 300; i++) {
        store.append(rec(i, "line " + i + "\n"));
      }
      store.close(); // forces: all 300 durable, the follower may not have read them yet
      sink.close(Duration.ofSeconds(10));
      assertThat(sink.dropped()).isZero();
      assertThat(sink.sent()).isEqualTo(300);
      col.awaitLines(300);
      assertThat(col.messages()).hasSize(300).startsWith("line 1").endsWith("line 300");
    }
  }
}
