package dev.inferno.kiln.exec;

import java.util.List;
import java.util.Objects;

/** What an OPEN frame asks the guest to run (PROTOCOL.md §10). */
public sealed interface ExecRequest {

  /**
   * A command, started as the main process is (user, HOME, PATH lookup in the guest).
   *
   * @param env the complete environment (the host merged it: {@code DockerRun.exec})
   * @param user Docker's {@code User}, or null for root
   * @param workdir absolute, or null for {@code /}
   * @param consoleSize {@code [rows, cols]} for a terminal, or null
   */
  record Command(
      List<String> argv,
      List<String> env,
      String user,
      String workdir,
      boolean tty,
      boolean stdin,
      int[] consoleSize)
      implements ExecRequest {
    public Command {
      argv = List.copyOf(argv);
      env = List.copyOf(env);
      if (argv.isEmpty()) {
        throw new IllegalArgumentException("an exec needs a command");
      }
      if (consoleSize != null && consoleSize.length != 2) {
        throw new IllegalArgumentException("consoleSize is [rows, cols]");
      }
    }
  }

  /** A tar stream of {@code path} (and what is under it) on stdout. */
  record ArchiveGet(String path) implements ExecRequest {
    public ArchiveGet {
      Objects.requireNonNull(path, "path");
    }
  }

  /** Unpacks the tar stream written to stdin under the existing directory {@code path}. */
  record ArchivePut(String path) implements ExecRequest {
    public ArchivePut {
      Objects.requireNonNull(path, "path");
    }
  }

  /**
   * The guest's process list as Docker's top JSON ({@code Titles}, {@code Processes}) on stdout.
   */
  record Top() implements ExecRequest {}
}
