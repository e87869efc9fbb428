package dev.inferno.kiln.vm;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Recovers init's exit report from the serial console ("INFERNO-EXIT {json}" at the start of a
 * line), for when no exit listener was up. Only the console's tail is read: the line is among the
 * last things the guest prints.
 */
public final class ConsoleExit {
  static final String MARKER = "INFERNO-EXIT ";
  private static final int TAIL = 64 * 1024;

  private ConsoleExit() {}

  public static Optional<ExitRecord> recover(Path console) throws IOException {
    if (!Files.exists(console)) {
      return Optional.empty();
    }
    String tail;
    try (RandomAccessFile raf = new RandomAccessFile(console.toFile(), "r")) {
      long len = raf.length();
      long from = Math.max(0, len - TAIL);
      byte[] buf = new byte[(int) (len - from)];
      raf.seek(from);
      raf.readFully(buf);
      tail = new String(buf, StandardCharsets.UTF_8);
    }
    ExitRecord found = null;
    for (String line : tail.split("\n")) {
      String l = line.strip();
      if (l.startsWith(MARKER)) {
        try {
          found = ExitRecord.fromGuestReport(l.substring(MARKER.length()), "console");
        } catch (IOException e) {
          // a line cut by a dying VM: keep looking for a complete one
        }
      }
    }
    return Optional.ofNullable(found);
  }
}
