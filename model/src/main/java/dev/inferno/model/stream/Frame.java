package dev.inferno.model.stream;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * One frame of inferno's log stream ({@code application/vnd.inferno.stream}): binary-safe, so a
 * guest's bytes reach the terminal unchanged, and cheap to parse without a JSON library.
 *
 * <p>Layout: a 16-byte header — kind (u8), three zero bytes, payload length (u32 big-endian), time
 * (i64 big-endian, nanoseconds since the Unix epoch; 0 when not a log record) — then the payload.
 * Kinds: 1 stdout, 2 stderr (raw bytes), 3 info (JSON object, e.g. the created VM's id), 4 exit
 * (JSON exit record: the last frame when the stream ended because the VM exited), 5 error (JSON
 * {@code {"message":…}}: the last frame when the stream failed after the response had begun).
 */
public record Frame(Kind kind, long timeNanos, byte[] payload) {
  public static final int HEADER = 16;
  public static final String MEDIA_TYPE = "application/vnd.inferno.stream";

  /** Payloads larger than this are refused by readers (a log record is far smaller). */
  public static final int MAX_PAYLOAD = 16 << 20;

  /** Frame kinds and their wire codes. */
  public enum Kind {
    STDOUT(1),
    STDERR(2),
    INFO(3),
    EXIT(4),
    ERROR(5);

    public final int code;

    Kind(int code) {
      this.code = code;
    }

    static Kind of(int code) throws IOException {
      for (Kind k : values()) {
        if (k.code == code) {
          return k;
        }
      }
      throw new IOException("bad frame kind " + code + " in the daemon's stream");
    }
  }

  /** A JSON-carrying frame (info, exit, error). */
  public static Frame json(Kind kind, String json) {
    return new Frame(kind, 0, json.getBytes(StandardCharsets.UTF_8));
  }

  public static long nanos(Instant t) {
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  public Instant time() {
    return Instant.ofEpochSecond(Math.floorDiv(timeNanos, 1_000_000_000L))
        .plusNanos(Math.floorMod(timeNanos, 1_000_000_000L));
  }

  public String text() {
    return new String(payload, StandardCharsets.UTF_8);
  }

  /** Writes header and payload (no flush). */
  public void writeTo(OutputStream out) throws IOException {
    ByteBuffer h = ByteBuffer.allocate(HEADER);
    h.put((byte) kind.code).put((byte) 0).put((byte) 0).put((byte) 0);
    h.putInt(payload.length).putLong(timeNanos);
    out.write(h.array());
    out.write(payload);
  }

  /** Reads the next frame, or null at a clean end of stream (between frames). */
  public static Frame readFrom(InputStream in) throws IOException {
    byte[] h = new byte[HEADER];
    int n = in.readNBytes(h, 0, HEADER);
    if (n == 0) {
      return null;
    }
    if (n < HEADER) {
      throw new EOFException("the daemon's stream ended inside a frame header");
    }
    ByteBuffer b = ByteBuffer.wrap(h);
    Kind kind = Kind.of(b.get() & 0xff);
    b.position(4);
    int len = b.getInt();
    long t = b.getLong();
    if (len < 0 || len > MAX_PAYLOAD) {
      throw new IOException("frame of " + Integer.toUnsignedLong(len) + " bytes is too large");
    }
    byte[] p = new byte[len];
    new DataInputStream(in).readFully(p);
    return new Frame(kind, t, p);
  }
}
