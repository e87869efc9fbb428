package dev.inferno.kiln.logs;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Reads records of one segment file sequentially from an offset, with its own buffer and file
 * handle.
 */
final class SegmentReader implements Closeable {
  private final FileChannel ch;
  private final ByteBuffer buf = ByteBuffer.allocate(128 * 1024).flip();
  private final CRC32C crc = new CRC32C();

  /** File offset of buf's limit. */
  private long filePos;

  private boolean torn;

  SegmentReader(Path path, long offset) throws IOException {
    this.ch = FileChannel.open(path, StandardOpenOption.READ);
    this.filePos = offset;
  }

  /** File offset of the next record. */
  long offset() {
    return filePos - buf.remaining();
  }

  /** True after {@link #next} stopped at bytes that are not a valid record. */
  boolean torn() {
    return torn;
  }

  /**
   * The next record, or null at the end of the valid records (end of file, or torn/corrupt bytes).
   */
  LogRecord next() throws IOException {
    while (true) {
      Object r = SegmentFormat.readRecord(buf, crc);
      if (r instanceof LogRecord rec) {
        return rec;
      }
      if (r == null) {
        torn = true;
        return null;
      }
      buf.compact();
      int n = ch.read(buf, filePos);
      buf.flip();
      if (n <= 0) {
        torn = buf.hasRemaining();
        return null;
      }
      filePos += n;
    }
  }

  @Override
  public void close() throws IOException {
    ch.close();
  }
}
