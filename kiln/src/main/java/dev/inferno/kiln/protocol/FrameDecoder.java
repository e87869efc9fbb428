package dev.inferno.kiln.protocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * A streaming frame reader with the resynchronisation rules of PROTOCOL.md §2: it accepts bytes in
 * any chunking, checks the header CRC before waiting for a payload and the payload CRC once it is
 * in; on anything invalid it discards one byte and scans for the next magic. Frames of unknown
 * types (valid CRCs) are skipped whole, as are known types whose payload does not parse. Not
 * thread-safe: one decoder per connection.
 */
public final class FrameDecoder {
  private byte[] buf = new byte[8192];
  private int start;
  private int end;
  private final CRC32 crc = new CRC32();

  private long discardedBytes;
  private long unknownFrames;
  private long malformedFrames;

  /** Adds bytes read from the channel. */
  public void feed(byte[] b, int off, int len) {
    ensureRoom(len);
    System.arraycopy(b, off, buf, end, len);
    end += len;
  }

  /** Adds the remaining bytes of {@code b} (consumed). */
  public void feed(ByteBuffer b) {
    int len = b.remaining();
    ensureRoom(len);
    b.get(buf, end, len);
    end += len;
  }

  /**
   * Reads up to {@code max} bytes from {@code ch} straight into the decoder's buffer (no
   * intermediate copy).
   *
   * @return the bytes read, or -1 at end of stream
   */
  public int readFrom(ReadableByteChannel ch, int max) throws IOException {
    ensureRoom(max);
    int n = ch.read(ByteBuffer.wrap(buf, end, max));
    if (n > 0) {
      end += n;
    }
    return n;
  }

  /** Feeds {@code b} and returns every frame now complete. */
  public List<Frame> decode(byte[] b, int off, int len) {
    feed(b, off, len);
    List<Frame> out = new ArrayList<>();
    for (Frame f = next(); f != null; f = next()) {
      out.add(f);
    }
    return out;
  }

  /** The next complete valid frame, or null when more bytes are needed. */
  public Frame next() {
    while (true) {
      int avail = end - start;
      if (avail == 0) {
        return null;
      }
      if ((buf[start] & 0xFF) != Codec.MAGIC0) {
        skipToMagic();
        continue;
      }
      if (avail >= 2 && (buf[start + 1] & 0xFF) != Codec.MAGIC1) {
        discard();
        continue;
      }
      if (avail >= 3 && (buf[start + 2] & 0xFF) != Codec.VERSION) {
        discard();
        continue;
      }
      if (avail < Codec.HEADER_SIZE) {
        return null;
      }
      long len = u32(start + 4);
      if (len > Codec.MAX_PAYLOAD) {
        discard();
        continue;
      }
      crc.reset();
      crc.update(buf, start, 12);
      if (crc.getValue() != u32(start + 12)) {
        discard();
        continue;
      }
      int total = Codec.HEADER_SIZE + (int) len;
      if (avail < total) {
        return null;
      }
      crc.reset();
      crc.update(buf, start + Codec.HEADER_SIZE, (int) len);
      if (crc.getValue() != u32(start + 8)) {
        discard();
        continue;
      }
      int type = buf[start + 3] & 0xFF;
      int payloadOff = start + Codec.HEADER_SIZE;
      start += total;
      Frame f;
      try {
        f = Codec.parse(type, buf, payloadOff, (int) len);
      } catch (ProtocolException e) {
        malformedFrames++;
        continue;
      }
      if (f == null) {
        unknownFrames++;
        continue;
      }
      return f;
    }
  }

  /** Bytes thrown away while resynchronising. */
  public long discardedBytes() {
    return discardedBytes;
  }

  /** Frames with valid CRCs but a type this version does not know (skipped whole). */
  public long unknownFrames() {
    return unknownFrames;
  }

  /** Frames of a known type with valid CRCs whose payload did not parse (skipped whole). */
  public long malformedFrames() {
    return malformedFrames;
  }

  /** Bytes held waiting for the rest of a frame. */
  public int buffered() {
    return end - start;
  }

  private void discard() {
    start++;
    discardedBytes++;
  }

  private void skipToMagic() {
    int i = start;
    while (i < end && (buf[i] & 0xFF) != Codec.MAGIC0) {
      i++;
    }
    discardedBytes += i - start;
    start = i;
  }

  private long u32(int at) {
    return ((buf[at] & 0xFFL) << 24)
        | ((buf[at + 1] & 0xFFL) << 16)
        | ((buf[at + 2] & 0xFFL) << 8)
        | (buf[at + 3] & 0xFFL);
  }

  private void ensureRoom(int len) {
    if (end + len <= buf.length) {
      return;
    }
    int live = end - start;
    if (live + len <= buf.length && start > 0) {
      System.arraycopy(buf, start, buf, 0, live);
    } else {
      int cap = buf.length;
      while (cap < live + len) {
        cap *= 2;
      }
      byte[] nb = new byte[cap];
      System.arraycopy(buf, start, nb, 0, live);
      buf = nb;
    }
    start = 0;
    end = live;
  }
}
