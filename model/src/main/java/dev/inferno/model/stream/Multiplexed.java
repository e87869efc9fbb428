package dev.inferno.model.stream;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Docker's stream format after an attach or exec upgrade ({@code
 * application/vnd.docker.multiplexed-stream}): each piece of output is an 8-byte header {@code
 * [stream u8 (1 stdout, 2 stderr), 0, 0, 0, size u32 BE]} and the payload. With a terminal the
 * stream is raw ({@code application/vnd.docker.raw-stream}) and needs no format. The one owner of
 * the format, for the daemon's writer and the CLI's reader (and issue 13's Docker API).
 */
public final class Multiplexed {
  public static final String MEDIA_TYPE = "application/vnd.docker.multiplexed-stream";
  public static final String RAW_MEDIA_TYPE = "application/vnd.docker.raw-stream";
  public static final int STDOUT = 1;
  public static final int STDERR = 2;

  private Multiplexed() {}

  /** One piece of output: its stream (1 or 2) and bytes. */
  public record Chunk(int stream, byte[] bytes) {}

  /** Writes one frame (an empty payload writes nothing: Docker never sends empty frames). */
  public static void write(OutputStream out, int stream, byte[] b, int off, int len)
      throws IOException {
    if (stream != STDOUT && stream != STDERR) {
      throw new IllegalArgumentException("stream must be 1 (stdout) or 2 (stderr), not " + stream);
    }
    if (len == 0) {
      return;
    }
    byte[] h = {
      (byte) stream,
      0,
      0,
      0,
      (byte) (len >>> 24),
      (byte) (len >>> 16),
      (byte) (len >>> 8),
      (byte) len
    };
    out.write(h);
    out.write(b, off, len);
  }

  public static void write(OutputStream out, int stream, byte[] b) throws IOException {
    write(out, stream, b, 0, b.length);
  }

  /**
   * The next frame, or null at the end of the stream.
   *
   * @throws EOFException when the stream ends inside a frame
   * @throws IOException when a header is not a frame header (a raw stream read as multiplexed)
   */
  public static Chunk read(InputStream in) throws IOException {
    byte[] h = new byte[8];
    int n = in.readNBytes(h, 0, 8);
    if (n == 0) {
      return null;
    }
    if (n < 8) {
      throw new EOFException("the stream ended inside a frame header");
    }
    int stream = h[0];
    if ((stream != 0 && stream != STDOUT && stream != STDERR)
        || h[1] != 0
        || h[2] != 0
        || h[3] != 0) {
      throw new IOException("not a multiplexed stream: header starts with byte " + (h[0] & 0xff));
    }
    long size =
        ((h[4] & 0xffL) << 24) | ((h[5] & 0xffL) << 16) | ((h[6] & 0xffL) << 8) | (h[7] & 0xffL);
    if (size > Integer.MAX_VALUE - 8) {
      throw new IOException("frame of " + size + " bytes is too large");
    }
    byte[] b = in.readNBytes((int) size);
    if (b.length < size) {
      throw new EOFException("the stream ended inside a frame of " + size + " bytes");
    }
    return new Chunk(stream, b);
  }
}
