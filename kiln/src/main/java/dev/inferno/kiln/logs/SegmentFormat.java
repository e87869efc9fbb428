package dev.inferno.kiln.logs;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The bytes of a segment file ({@code <base ordinal, 20 digits>.seg}):
 *
 * <pre>
 * header: "INFLOGS1", u64 base ordinal, i64 max host time before, i64 max guest time before,
 *         u32 n, n × (u64 boot id, u64 highest seq), u32 CRC-32C of all before
 * record: u32 body length, u32 CRC-32C of the body,
 *         body = u8 stream, u64 boot id, u64 seq, u64 guest time ns, u64 host time ns, data
 * </pre>
 *
 * The header's boot table is the highest seq persisted per boot id when the segment was created,
 * and the max times are the running maxima of all records before it, so that recovery only has to
 * scan the newest segment. All integers big-endian.
 */
final class SegmentFormat {
  static final byte[] MAGIC = "INFLOGS1".getBytes(StandardCharsets.US_ASCII);
  static final int RECORD_HEAD = 8;
  static final int BODY_FIXED = 33;
  static final int MAX_DATA = 65536;
  static final int MAX_BODY = BODY_FIXED + MAX_DATA;

  /** Boots remembered in a segment header: the newest ones (one VM boots rarely). */
  static final int MAX_BOOTS_IN_HEADER = 256;

  private SegmentFormat() {}

  static String fileName(long baseOrdinal) {
    return String.format("%020d.seg", baseOrdinal);
  }

  static String indexName(long baseOrdinal) {
    return String.format("%020d.idx", baseOrdinal);
  }

  static ByteBuffer header(long baseOrdinal, long maxHost, long maxGuest, Map<Long, Long> boots) {
    int n = Math.min(boots.size(), MAX_BOOTS_IN_HEADER);
    ByteBuffer b = ByteBuffer.allocate(headerSize(n));
    b.put(MAGIC).putLong(baseOrdinal).putLong(maxHost).putLong(maxGuest).putInt(n);
    int skip = boots.size() - n;
    for (Map.Entry<Long, Long> e : boots.entrySet()) {
      if (skip-- > 0) {
        continue;
      }
      b.putLong(e.getKey()).putLong(e.getValue());
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.flip();
  }

  static int headerSize(int boots) {
    return MAGIC.length + 24 + 4 + 16 * boots + 4;
  }

  /** A parsed header. */
  record Header(
      long baseOrdinal, long maxHost, long maxGuest, LinkedHashMap<Long, Long> boots, int size) {}

  /** Parses a header from the start of {@code b}; null when it is absent, torn or corrupt. */
  static Header parseHeader(ByteBuffer b) {
    if (b.remaining() < headerSize(0)) {
      return null;
    }
    int at = b.position();
    for (int i = 0; i < MAGIC.length; i++) {
      if (b.get(at + i) != MAGIC[i]) {
        return null;
      }
    }
    long base = b.getLong(at + 8);
    long maxHost = b.getLong(at + 16);
    long maxGuest = b.getLong(at + 24);
    int n = b.getInt(at + 32);
    if (n < 0 || n > MAX_BOOTS_IN_HEADER || b.remaining() < headerSize(n)) {
      return null;
    }
    int size = headerSize(n);
    CRC32C crc = new CRC32C();
    crc.update(b.slice(at, size - 4));
    if ((int) crc.getValue() != b.getInt(at + size - 4)) {
      return null;
    }
    LinkedHashMap<Long, Long> boots = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      boots.put(b.getLong(at + 36 + 16 * i), b.getLong(at + 44 + 16 * i));
    }
    return new Header(base, maxHost, maxGuest, boots, size);
  }

  static int recordSize(int dataLength) {
    return RECORD_HEAD + BODY_FIXED + dataLength;
  }

  /** Appends a record to {@code b}, which must have room for {@link #recordSize}. */
  static void writeRecord(ByteBuffer b, LogRecord r, CRC32C crc) {
    int start = b.position();
    b.putInt(BODY_FIXED + r.data().length).putInt(0);
    b.put((byte) r.stream())
        .putLong(r.bootId())
        .putLong(r.seq())
        .putLong(r.guestTimeNs())
        .putLong(r.hostTimeNs())
        .put(r.data());
    crc.reset();
    crc.update(b.slice(start + RECORD_HEAD, b.position() - start - RECORD_HEAD));
    b.putInt(start + 4, (int) crc.getValue());
  }

  /**
   * Parses the record at {@code b}'s position. Returns null when the bytes there are not a whole
   * valid record (torn or corrupt), else the record with {@code b} advanced past it. Returns {@link
   * #NEED_MORE} when {@code b} holds a prefix of a possibly valid record (the caller reads more and
   * retries, or treats it as torn at end of file).
   */
  static Object readRecord(ByteBuffer b, CRC32C crc) {
    if (b.remaining() < RECORD_HEAD) {
      return NEED_MORE;
    }
    int at = b.position();
    int len = b.getInt(at);
    if (len < BODY_FIXED || len > MAX_BODY) {
      return null;
    }
    if (b.remaining() < RECORD_HEAD + len) {
      return NEED_MORE;
    }
    crc.reset();
    crc.update(b.slice(at + RECORD_HEAD, len));
    if ((int) crc.getValue() != b.getInt(at + 4)) {
      return null;
    }
    int p = at + RECORD_HEAD;
    int stream = b.get(p) & 0xFF;
    long boot = b.getLong(p + 1);
    long seq = b.getLong(p + 9);
    long guest = b.getLong(p + 17);
    long host = b.getLong(p + 25);
    byte[] data = new byte[len - BODY_FIXED];
    b.get(p + BODY_FIXED, data);
    b.position(at + RECORD_HEAD + len);
    return new LogRecord(stream, boot, seq, guest, host, data);
  }

  static final Object NEED_MORE = new Object();
}
