package dev.inferno.kiln.logs;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One stored log record: a LOG frame plus where and when it arrived.
 *
 * @param stream 1 stdout, 2 stderr, 3 init's own messages (PROTOCOL.md §3)
 * @param bootId the guest boot that sent it
 * @param seq its seq within that boot (unsigned)
 * @param guestTimeNs guest CLOCK_REALTIME when init read the bytes, ns since the epoch
 * @param hostTimeNs host wall clock when kiln received the frame, ns since the epoch
 * @param data the bytes (not copied; do not mutate)
 */
@SuppressWarnings("ArrayRecordComponent") // equals/hashCode compare the bytes
public record LogRecord(
    int stream, long bootId, long seq, long guestTimeNs, long hostTimeNs, byte[] data) {

  public static final int STDOUT = 1;
  public static final int STDERR = 2;
  public static final int INIT = 3;

  /** The stream's name as {@code docker logs} consumers expect it. */
  public String streamName() {
    return switch (stream) {
      case STDOUT -> "stdout";
      case STDERR -> "stderr";
      case INIT -> "init";
      default -> "stream" + stream;
    };
  }

  /** The data decoded as UTF-8 (invalid sequences replaced). */
  public String text() {
    return new String(data, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LogRecord r
        && r.stream == stream
        && r.bootId == bootId
        && r.seq == seq
        && r.guestTimeNs == guestTimeNs
        && r.hostTimeNs == hostTimeNs
        && Arrays.equals(r.data, data);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(seq) * 31 + Long.hashCode(bootId) * 7 + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "LogRecord["
        + streamName()
        + " boot="
        + Long.toHexString(bootId)
        + " seq="
        + Long.toUnsignedString(seq)
        + " guest="
        + guestTimeNs
        + " host="
        + hostTimeNs
        + " "
        + data.length
        + "B]";
  }
}
