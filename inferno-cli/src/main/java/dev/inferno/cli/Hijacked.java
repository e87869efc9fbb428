package dev.inferno.cli;

import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.stream.Multiplexed;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An upgraded (attach or exec start) connection, pumped both ways: our stdin to the server (its end
 * half-closes the connection, which the server turns into EOF for the guest), the server's output
 * to our stdout and stderr — raw bytes with a TTY, else Docker's stream format ({@link
 * Multiplexed}).
 */
final class Hijacked {
  private Hijacked() {}

  /**
   * Pumps until the server ends its output; stdin null: nothing is sent. Returns whether any input
   * was sent (only then can the server have ended the stream for the detach keys).
   */
  static boolean pump(UnixHttpClient.Response r, boolean tty, InputStream stdin)
      throws IOException {
    AtomicBoolean sent = new AtomicBoolean();
    if (stdin != null) {
      OutputStream to = r.output();
      // a platform thread: a read of the terminal blocks in the kernel; daemon: never holds the
      // JVM once the output ended
      Thread.ofPlatform()
          .daemon()
          .name("stdin")
          .start(() -> {
            byte[] buf = new byte[32768];
            try {
              int n;
              while ((n = stdin.read(buf)) > 0) {
                to.write(buf, 0, n);
                sent.set(true);
              }
              r.shutdownOutput();
            } catch (IOException e) {
              // the server closed (detach, exit): the output side ends the command
            }
          });
    }
    InputStream in = r.body();
    try {
      if (tty) {
        copy(in, System.out);
      } else {
        demux(in, System.out, System.err);
      }
    } catch (IOException e) {
      if (!r.channel().isOpen()) {
        return sent.get(); // closed under us on purpose
      }
      throw new CliException("the daemon ended the stream: " + e.getMessage());
    }
    return sent.get();
  }

  private static void copy(InputStream in, PrintStream out) throws IOException {
    byte[] buf = new byte[32768];
    int n;
    while ((n = in.read(buf)) > 0) {
      out.write(buf, 0, n);
      out.flush();
    }
  }

  /** Docker's stream format ({@link Multiplexed}): stream 1 to out, 2 to err. */
  static void demux(InputStream in, PrintStream out, PrintStream err) throws IOException {
    for (Multiplexed.Chunk c = Multiplexed.read(in); c != null; c = Multiplexed.read(in)) {
      PrintStream to = c.stream() == Multiplexed.STDERR ? err : out;
      to.write(c.bytes());
      to.flush();
    }
  }
}
