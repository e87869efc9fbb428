package dev.inferno.kiln.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmmMetricsTest {
  @TempDir Path dir;

  @Test
  void theLastCompleteLineWins() throws IOException {
    Path f = dir.resolve("firecracker.metrics");
    assertThat(VmmMetrics.latest(f)).isEmpty(); // no file yet
    Files.writeString(f, "");
    assertThat(VmmMetrics.latest(f)).isEmpty(); // not flushed yet
    Files.writeString(
        f,
        "{\"utc_timestamp_ms\":1000,\"vcpu\":{\"exit_io_out\":3}}\n"
            + "{\"utc_timestamp_ms\":2000,\"vcpu\":{\"exit_io_out\":5}}\n");
    VmmMetrics m = VmmMetrics.latest(f).orElseThrow();
    assertThat(m.utcTimestampMs()).isEqualTo(2000);
    assertThat(m.values().at("/vcpu/exit_io_out").asLong()).isEqualTo(5);
    // a flush being written (no newline yet) is not read; nor is a garbled line
    Files.writeString(
        f, "not json\n{\"utc_timestamp_ms\":3000,\"vc", java.nio.file.StandardOpenOption.APPEND);
    assertThat(VmmMetrics.latest(f).orElseThrow().utcTimestampMs()).isEqualTo(2000);
  }

  @Test
  void aLongFileIsReadFromItsTail() throws IOException {
    Path f = dir.resolve("firecracker.metrics");
    StringBuilder sb = new StringBuilder();
    String pad = "x".repeat(8000);
    for (int i = 1; i <= 200; i++) { // ~1.6 MB of flushes
      sb.append("{\"utc_timestamp_ms\":")
          .append(i)
          .append(",\"pad\":\"")
          .append(pad)
          .append("\"}\n");
    }
    Files.writeString(f, sb);
    assertThat(VmmMetrics.latest(f).orElseThrow().utcTimestampMs()).isEqualTo(200);
  }
}
