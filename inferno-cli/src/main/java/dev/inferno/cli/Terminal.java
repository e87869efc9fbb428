package dev.inferno.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one owner of the user's terminal for {@code run -it}, {@code exec -it} and {@code attach}:
 * its size, raw mode and SIGWINCH, all through {@code stty} on our stdin (no terminal library: the
 * CLI's startup goal, and only these verbs pay for the forks). Raw mode is undone on every way out:
 * {@link #close} on the normal and exceptional paths (Main halts, so no shutdown hook runs there),
 * and a shutdown hook for SIGTERM, SIGHUP and SIGINT, which end the JVM through its exit.
 */
final class Terminal implements AutoCloseable {
  private final String saved;
  private final AtomicBoolean raw = new AtomicBoolean();
  private Thread hook;

  private Terminal(String saved) {
    this.saved = saved;
  }

  /** The terminal our stdin is, or null when stdin is not a terminal. */
  static Terminal ofStdin() {
    try {
      String saved = stty("-g");
      return saved == null || saved.isBlank() ? null : new Terminal(saved.strip());
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Whether our stdout is a terminal (what {@code save} refuses to write a tar to): the device fd 1
   * is open on, read from /proc, with no fork.
   */
  static boolean stdoutIsTerminal() {
    try {
      String dev =
          java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/1")).toString();
      return dev.startsWith("/dev/pts/")
          || dev.startsWith("/dev/tty")
          || dev.equals("/dev/console");
    } catch (IOException | UnsupportedOperationException e) {
      return false; // no /proc: as if redirected
    }
  }

  /** Its size as [rows, cols], or null when the terminal does not know it (0 0). */
  int[] size() {
    try {
      String s = stty("size");
      String[] p = s == null ? new String[0] : s.strip().split("\\s+");
      if (p.length == 2) {
        int rows = Integer.parseInt(p[0]);
        int cols = Integer.parseInt(p[1]);
        if (rows > 0 && cols > 0) {
          return new int[] {rows, cols};
        }
      }
    } catch (IOException | NumberFormatException e) {
      // unknown size: the guest keeps its own
    }
    return null;
  }

  /**
   * Raw mode without echo: every key (Ctrl-C, Ctrl-D, the detach keys) goes to the guest as a byte,
   * and the guest's terminal echoes.
   */
  void raw() throws IOException {
    if (raw.compareAndSet(false, true)) {
      hook = new Thread(this::restore, "terminal-restore");
      Runtime.getRuntime().addShutdownHook(hook);
      if (stty("raw", "-echo") == null) {
        restore();
        throw new CliException("cannot put the terminal in raw mode (stty raw -echo failed)");
      }
    }
  }

  /** Calls action (on a signal thread) whenever the terminal's size changes. */
  @SuppressWarnings("removal")
  static void onResize(Runnable action) {
    sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), sig -> action.run());
  }

  /** Puts back the settings saved when this was opened; once. */
  private void restore() {
    if (raw.compareAndSet(true, false)) {
      try {
        stty(saved);
      } catch (IOException e) {
        System.err.println("inferno: could not restore the terminal: run `stty sane`");
      }
    }
  }

  @Override
  public void close() {
    restore();
    if (hook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down: the hook restores (a no-op now)
      }
    }
  }

  /** Runs stty with our stdin; its stdout, or null when it failed. */
  private static String stty(String... args) throws IOException {
    String[] cmd = new String[args.length + 1];
    cmd[0] = "stty";
    System.arraycopy(args, 0, cmd, 1, args.length);
    Process p =
        new ProcessBuilder(cmd)
            .redirectInput(ProcessBuilder.Redirect.INHERIT)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      return p.waitFor() == 0 ? out : null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for stty", e);
    }
  }
}
