package dev.inferno.kiln.exec;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The interactive side of one running VM (PROTOCOL.md §10). Thread-safe: several callers may open
 * sessions at once; each session's streams are independent of the others'.
 */
public interface GuestExec {

  /**
   * The main process's stdin (session 0). {@code write} blocks while the guest has granted no
   * credit (back-pressure) or while the session channel is not connected yet; {@code close} sends
   * EOF. Writes fail with an IOException once the VM is gone. Every call returns the same stream;
   * callers that share it (two attaches) interleave their bytes, as Docker's attach does.
   */
  OutputStream mainStdin();

  /** Sets the main process's terminal size (ignored by the guest without a terminal). */
  void resizeMain(int rows, int cols) throws IOException;

  /**
   * Opens a session and waits until the guest started it.
   *
   * @throws ExecStartException when the guest answered with CLOSED alone (not found 127, not
   *     executable 126, bad user/workdir/path 125 or 1): its report says why
   * @throws IOException when the session channel is not connected or broke, or the VM is gone
   */
  ExecProcess open(ExecRequest request)
      throws IOException, InterruptedException, ExecStartException;
}
