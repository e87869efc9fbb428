package dev.inferno.kiln.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Copies the guest console to a stream as it grows, line by line, leaving out init's INFERNO-EXIT
 * line (kiln reports the exit itself).
 */
final class ConsoleFollower implements Runnable {
  private final Path console;
  private final PrintStream out;
  private volatile boolean finishing;
  private long offset;
  private final StringBuilder partial = new StringBuilder();

  ConsoleFollower(Path console, PrintStream out) {
    this.console = console;
    this.out = out;
  }

  /** Drain what is left and stop. */
  void finish() {
    finishing = true;
  }

  @Override
  public void run() {
    try {
      while (true) {
        boolean last = finishing;
        pump();
        if (last) {
          if (!partial.isEmpty()) {
            emit(partial.toString());
          }
          out.flush();
          return;
        }
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      out.println("kiln: cannot follow " + console + ": " + e.getMessage());
    }
  }

  private void pump() throws IOException {
    if (!Files.exists(console)) {
      return;
    }
    try (RandomAccessFile raf = new RandomAccessFile(console.toFile(), "r")) {
      long len = raf.length();
      if (len <= offset) {
        return;
      }
      byte[] buf = new byte[(int) Math.min(len - offset, 1 << 20)];
      raf.seek(offset);
      raf.readFully(buf);
      offset += buf.length;
      partial.append(new String(buf, StandardCharsets.UTF_8));
    }
    int nl;
    while ((nl = partial.indexOf("\n")) >= 0) {
      emit(partial.substring(0, nl));
      partial.delete(0, nl + 1);
    }
    out.flush();
  }

  private void emit(String line) {
    String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    if (!l.startsWith("INFERNO-EXIT ")) {
      out.println(l);
    }
  }
}
