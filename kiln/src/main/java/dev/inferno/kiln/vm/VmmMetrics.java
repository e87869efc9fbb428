package dev.inferno.kiln.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The VMM's own metrics (Firecracker's metrics file): Firecracker appends one JSON object per line
 * at every flush (every 60 s, and on {@code PUT /actions FlushMetrics}); most counters are deltas
 * since the previous flush.
 *
 * @param utcTimestampMs when the VMM wrote the line ({@code utc_timestamp_ms}), or 0
 * @param values the whole object, e.g. {@code values.at("/vcpu/exit_io_out")}
 */
public record VmmMetrics(long utcTimestampMs, JsonNode values) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A flush is ~10 KiB; the tail read holds many. */
  private static final int TAIL = 256 * 1024;

  /**
   * The last complete line of a metrics file; empty when there is none yet (or no file). A line
   * still being written (no newline yet) is skipped for the one before.
   */
  public static Optional<VmmMetrics> latest(Path file) throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    byte[] buf;
    boolean cut;
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long len = raf.length();
      long from = Math.max(0, len - TAIL);
      cut = from > 0;
      buf = new byte[(int) (len - from)];
      raf.seek(from);
      raf.readFully(buf);
    }
    int end = buf.length;
    while (end > 0 && buf[end - 1] != '\n') {
      end--; // a torn last line
    }
    while (end > 0) {
      int lineEnd = end - 1;
      int start = lineEnd;
      while (start > 0 && buf[start - 1] != '\n') {
        start--;
      }
      if (start == 0 && cut) {
        return Optional.empty(); // the tail begins inside this line: no whole line left
      }
      String line = new String(buf, start, lineEnd - start, StandardCharsets.UTF_8).strip();
      if (!line.isEmpty()) {
        try {
          JsonNode n = JSON.readTree(line);
          if (n != null && n.isObject()) {
            return Optional.of(new VmmMetrics(n.path("utc_timestamp_ms").asLong(0), n));
          }
        } catch (IOException e) {
          // not JSON: an earlier line may be
        }
      }
      end = start;
    }
    return Optional.empty();
  }
}
