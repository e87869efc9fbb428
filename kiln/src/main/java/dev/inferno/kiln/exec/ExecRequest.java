package dev.inferno.kiln.exec;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.kiln.protocol.ConsoleSize;
import java.util.List;
import java.util.Objects;

/** What an OPEN frame asks the guest to run (PROTOCOL.md §10). */
public sealed interface ExecRequest {

  /** The OPEN frame's JSON (compact, every field explicit, in §10's order). */
  default String toJson() {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    switch (this) {
      case Command c -> {
        n.put("kind", "exec");
        ArrayNode argv = n.putArray("argv");
        c.argv().forEach(argv::add);
        ArrayNode env = n.putArray("env");
        c.env().forEach(env::add);
        n.put("user", c.user());
        n.put("workdir", c.workdir());
        n.put("tty", c.tty());
        n.put("stdin", c.stdin());
        if (c.consoleSize() == null) {
          n.putNull("console_size");
        } else {
          n.putArray("console_size").add(c.consoleSize()[0]).add(c.consoleSize()[1]);
        }
      }
      case ArchiveGet g -> n.put("kind", "archive-get").put("path", g.path());
      case ArchivePut p -> n.put("kind", "archive-put").put("path", p.path());
      case Stat st -> n.put("kind", "stat").put("path", st.path());
      case Top t -> n.put("kind", "top");
    }
    return n.toString();
  }

  /** Whether the session reads stream 0 (the host may write to its stdin). */
  default boolean readsStdin() {
    return switch (this) {
      case Command c -> c.stdin();
      case ArchivePut p -> true;
      case ArchiveGet g -> false;
      case Stat st -> false;
      case Top t -> false;
    };
  }

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
      ConsoleSize.of(consoleSize); // checks [rows, cols], each 1 to 65535
      consoleSize = consoleSize == null ? null : consoleSize.clone();
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
   * Docker's path stat of {@code path} (not following a final symlink) as one JSON object on stdout
   * ({@code X-Docker-Container-Path-Stat}'s shape).
   */
  record Stat(String path) implements ExecRequest {
    public Stat {
      Objects.requireNonNull(path, "path");
    }
  }

  /**
   * The guest's process list as Docker's top JSON ({@code Titles}, {@code Processes}) on stdout.
   */
  record Top() implements ExecRequest {}
}
