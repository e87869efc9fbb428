package dev.inferno.kiln.protocol;

import java.util.List;
import java.util.Objects;

/**
 * The workload as the host resolved it (run config v2 {@code process}, PROTOCOL.md §5): init runs
 * exactly this, resolving only what needs the guest's files (the user through /etc/passwd and
 * /etc/group, HOME from the passwd entry when env lacks it, argv[0] through PATH).
 *
 * @param argv entrypoint + cmd, never empty
 * @param env KEY=VALUE, in order
 * @param workdir absolute working directory
 * @param user Docker's {@code User} ({@code name}, {@code uid}, {@code name:group}, …)
 * @param stopSignal the signal a stop sends, a name ({@code SIGTERM}) or a number
 * @param tty Docker's {@code -t}: the workload runs on a pseudo-terminal (§10)
 * @param stdin Docker's {@code -i}: its stdin is fed from session 0 instead of /dev/null
 * @param consoleSize the terminal's size before the workload starts, or null
 */
public record ProcessSpec(
    List<String> argv,
    List<String> env,
    String workdir,
    String user,
    String stopSignal,
    boolean tty,
    boolean stdin,
    ConsoleSize consoleSize) {
  public static final String ROOT = "0:0";
  public static final String DEFAULT_STOP_SIGNAL = "SIGTERM";

  public ProcessSpec {
    argv = List.copyOf(argv);
    env = List.copyOf(env);
    Objects.requireNonNull(workdir, "workdir");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(stopSignal, "stopSignal");
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("process.argv must not be empty");
    }
    if (!workdir.startsWith("/")) {
      throw new IllegalArgumentException(
          "process.workdir must be an absolute path, not \"" + workdir + "\"");
    }
  }

  /** A process without a terminal whose stdin is /dev/null (Docker's default). */
  public ProcessSpec(
      List<String> argv, List<String> env, String workdir, String user, String stopSignal) {
    this(argv, env, workdir, user, stopSignal, false, false, null);
  }

  /** This process with Docker's {@code -t}, {@code -i} and console size. */
  public ProcessSpec withTerminal(boolean tty, boolean stdin, ConsoleSize consoleSize) {
    return new ProcessSpec(argv, env, workdir, user, stopSignal, tty, stdin, consoleSize);
  }
}
