package dev.inferno.image.unpack;

import io.airlift.compress.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** Picks the decompressor from the stream's magic bytes (gzip, zstd, or a plain tar). */
public final class Decompress {
  private Decompress() {}

  public static InputStream auto(InputStream raw) throws IOException {
    BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
    in.mark(4);
    byte[] m = in.readNBytes(4);
    in.reset();
    if (m.length >= 2 && (m[0] & 0xff) == 0x1f && (m[1] & 0xff) == 0x8b) {
      return new GZIPInputStream(in, 1 << 16);
    }
    if (m.length == 4
        && (m[0] & 0xff) == 0x28
        && (m[1] & 0xff) == 0xb5
        && (m[2] & 0xff) == 0x2f
        && (m[3] & 0xff) == 0xfd) {
      return new ZstdInputStream(in);
    }
    return in;
  }
}
