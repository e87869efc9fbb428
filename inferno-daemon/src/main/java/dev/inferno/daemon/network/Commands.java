package dev.inferno.daemon.network;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** Runs the host's network tools (ip, nft) with a script on stdin; one exec per change. */
final class Commands {
  private Commands() {}

  /** Runs cmd with stdin, returns its stdout; a non-zero exit is a {@link CommandException}. */
  static String run(List<String> cmd, String stdin) throws IOException {
    Process p;
    try {
      p = new ProcessBuilder(cmd).start();
    } catch (IOException e) {
      throw new CommandException(
          "cannot run "
              + String.join(" ", cmd)
              + ": "
              + e.getMessage()
              + " (is it installed? see scripts/install-deps.sh)");
    }
    // stderr is drained on its own thread so a chatty tool cannot block on a full pipe.
    CompletableFuture<String> err =
        CompletableFuture.supplyAsync(
            () -> readAll(p.getErrorStream()), Thread::startVirtualThread);
    try (OutputStream in = p.getOutputStream()) {
      in.write(stdin.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // the tool exited early: its exit status and stderr below say why
    }
    String out = readAll(p.getInputStream());
    int rc;
    try {
      rc = p.waitFor();
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new CommandException(String.join(" ", cmd) + " was interrupted");
    }
    if (rc != 0) {
      String stderr;
      try {
        stderr = err.get().strip();
      } catch (InterruptedException | ExecutionException e) {
        stderr = "";
      }
      throw new CommandException(
          String.join(" ", cmd)
              + " failed (exit "
              + rc
              + "): "
              + (stderr.isEmpty() ? "no message" : stderr));
    }
    return out;
  }

  private static String readAll(InputStream s) {
    try (s) {
      return new String(s.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
