package dev.inferno.kiln.exec;

import dev.inferno.kiln.protocol.ExitReport;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;

/**
 * One started exec session. Output is pulled: the guest may send only as much as the reader has
 * taken (plus the initial window), so a reader that stops reading stalls this session's process and
 * nothing else.
 */
public interface ExecProcess extends AutoCloseable {

  /** One piece of output: stream 1 (stdout, or the terminal) or 2 (stderr). */
  record Output(int stream, byte[] bytes) {}

  int session();

  /**
   * The process's pid in the guest (for archive, stat and top sessions: init's child that does the
   * work).
   */
  int pid();

  /**
   * The process's stdin (when the request asked for it): {@code write} blocks on credit, {@code
   * close} sends EOF.
   */
  OutputStream stdin();

  /**
   * The next piece of output, blocking; null once every output stream reached EOF (or the session
   * ended without them, e.g. the VM stopped).
   */
  Output read() throws IOException, InterruptedException;

  void resize(int rows, int cols) throws IOException;

  void signal(int signal) throws IOException;

  /**
   * Completes with the CLOSED report; with code 137 and an error when the channel broke or the VM
   * stopped first.
   */
  CompletableFuture<ExitReport> exit();

  /**
   * Stops reading: output still arriving is discarded (and its credit returned) so the process is
   * never left blocked on a reader that went away; the process itself runs on, as Docker's exec
   * does when its client disconnects.
   */
  @Override
  void close();
}
