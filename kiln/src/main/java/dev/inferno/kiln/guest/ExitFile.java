package dev.inferno.kiln.guest;

import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.kiln.protocol.ProtocolException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The VM's exit record ({@code exit.json}: the exit report's JSON), written atomically and durably.
 */
public final class ExitFile {
  private ExitFile() {}

  /**
   * Writes {@code report} to {@code file}: a temp file, fsync, rename over, fsync of the directory.
   */
  public static void write(Path file, ExitReport report) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve(file.getFileName() + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap((report.toJson() + "\n").getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /** The recorded report, or empty when there is none yet. */
  public static Optional<ExitReport> read(Path file) throws IOException {
    try {
      return Optional.of(ExitReport.fromJson(Files.readString(file, StandardCharsets.UTF_8)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (ProtocolException e) {
      throw new IOException(
          "exit record " + file + " is not a valid exit report (" + e.getMessage() + ")", e);
    }
  }
}
