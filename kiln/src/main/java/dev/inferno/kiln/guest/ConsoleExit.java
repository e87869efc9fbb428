package dev.inferno.kiln.guest;

import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.kiln.protocol.ProtocolException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Recovers the exit report from the serial console log, for when the exit channel was down: init
 * writes {@code INFERNO-EXIT {json}} at the start of a line (PROTOCOL.md §6). Only the console's
 * tail is read: the line is among the last things the guest prints.
 */
public final class ConsoleExit {
  static final String PREFIX = "INFERNO-EXIT ";
  private static final int TAIL = 64 * 1024;

  private ConsoleExit() {}

  /**
   * The last well-formed {@code INFERNO-EXIT} line of the console log's tail; empty if none (or no
   * file).
   */
  public static Optional<ExitReport> recover(Path consoleLog) throws IOException {
    if (!Files.exists(consoleLog)) {
      return Optional.empty();
    }
    byte[] buf;
    long from;
    try (RandomAccessFile raf = new RandomAccessFile(consoleLog.toFile(), "r")) {
      long len = raf.length();
      from = Math.max(0, len - TAIL);
      buf = new byte[(int) (len - from)];
      raf.seek(from);
      raf.readFully(buf);
    }
    // ISO-8859-1 keeps every byte, so stray binary on the console cannot break the scan; JSON is
    // re-decoded as UTF-8
    String[] lines = new String(buf, StandardCharsets.ISO_8859_1).split("\r?\n|\r");
    ExitReport last = null;
    for (int i = from > 0 ? 1 : 0; i < lines.length; i++) { // a cut first line is not a line
      String line = lines[i];
      if (!line.startsWith(PREFIX)) {
        continue;
      }
      String json =
          new String(
                  line.substring(PREFIX.length()).getBytes(StandardCharsets.ISO_8859_1),
                  StandardCharsets.UTF_8)
              .strip();
      try {
        last = ExitReport.fromJson(json);
      } catch (ProtocolException e) {
        // a line mangled by interleaved kernel output: an earlier good one may still be there
      }
    }
    return Optional.ofNullable(last);
  }
}
