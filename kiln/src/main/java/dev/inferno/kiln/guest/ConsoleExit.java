package dev.inferno.kiln.guest;

import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.kiln.protocol.ProtocolException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Recovers the exit report from the serial console log, for when the exit channel was down: init
 * writes {@code INFERNO-EXIT {json}} at the start of a line (PROTOCOL.md §6).
 */
public final class ConsoleExit {
  static final String PREFIX = "INFERNO-EXIT ";

  private ConsoleExit() {}

  /**
   * The last well-formed {@code INFERNO-EXIT} line of the console log; empty if none (or no file).
   */
  public static Optional<ExitReport> recover(Path consoleLog) throws IOException {
    ExitReport last = null;
    // ISO-8859-1 keeps every byte, so stray binary on the console cannot break the scan; JSON is
    // re-decoded as UTF-8
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(Files.newInputStream(consoleLog), StandardCharsets.ISO_8859_1))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
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
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    return Optional.ofNullable(last);
  }
}
