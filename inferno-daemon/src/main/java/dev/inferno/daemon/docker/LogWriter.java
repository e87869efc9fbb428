package dev.inferno.daemon.docker;

import dev.inferno.model.stream.Frame;
import dev.inferno.model.stream.Multiplexed;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Writes log records as {@code GET /containers/{id}/logs} answers them: only the streams asked for,
 * multiplexed without a terminal and raw with one, and with {@code timestamps} each line prefixed
 * by its record's time in dockerd's fixed-width RFC 3339 ({@code 2006-01-02T15:04:05.000000000Z})
 * and a space.
 */
final class LogWriter {
  /** dockerd's {@code RFC3339NanoFixed}: always nine digits, so columns line up. */
  static final DateTimeFormatter RFC3339_NANO_FIXED =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.nnnnnnnnn'Z'").withZone(ZoneOffset.UTC);

  private final OutputStream out;
  private final boolean stdout;
  private final boolean stderr;
  private final boolean timestamps;
  private final boolean raw;

  LogWriter(OutputStream out, boolean stdout, boolean stderr, boolean timestamps, boolean raw) {
    this.out = out;
    this.stdout = stdout;
    this.stderr = stderr;
    this.timestamps = timestamps;
    this.raw = raw;
  }

  /** Writes one record (nothing for a stream not asked for, or a non-log frame). */
  void write(Frame f) throws IOException {
    int stream =
        switch (f.kind()) {
          case STDOUT -> stdout ? Multiplexed.STDOUT : 0;
          case STDERR -> stderr ? Multiplexed.STDERR : 0;
          default -> 0;
        };
    if (stream == 0) {
      return;
    }
    byte[] b = timestamps ? stamped(f.time(), f.payload()) : f.payload();
    if (raw) {
      out.write(b);
    } else {
      Multiplexed.write(out, stream, b);
    }
    out.flush();
  }

  /** Each line of {@code payload} prefixed with {@code t} (a record may hold several lines). */
  static byte[] stamped(Instant t, byte[] payload) {
    byte[] prefix = (RFC3339_NANO_FIXED.format(t) + " ").getBytes(StandardCharsets.US_ASCII);
    ByteArrayOutputStream b = new ByteArrayOutputStream(payload.length + prefix.length);
    boolean lineStart = true;
    for (byte c : payload) {
      if (lineStart) {
        b.write(prefix, 0, prefix.length);
      }
      b.write(c);
      lineStart = c == '\n';
    }
    return b.toByteArray();
  }
}
