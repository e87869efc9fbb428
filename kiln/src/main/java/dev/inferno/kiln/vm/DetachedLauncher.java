package dev.inferno.kiln.vm;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a program so that it outlives the JVM: {@code setsid} puts it in a new session (no signal
 * to our process group or terminal reaches it) and execs it, so the child's pid is the program's. A
 * child spawned by the JVM is never a process-group leader, so setsid(2) succeeds without the extra
 * fork that would change the pid. While the JVM lives it reaps the program when it exits; when the
 * JVM dies the program is re-parented and keeps running. stdin is /dev/null, stdout and stderr
 * append to a log file.
 */
public final class DetachedLauncher {
  private DetachedLauncher() {}

  /** Launches argv detached and returns its pid. */
  public static long launch(List<String> argv, Path log, Path workDir) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add("setsid");
    cmd.addAll(argv);
    Process p =
        new ProcessBuilder(cmd)
            .directory(workDir.toFile())
            .redirectInput(Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(Redirect.appendTo(log.toFile()))
            .redirectErrorStream(true)
            .start();
    // nobody reads the pipes (they are files) and nobody waits on it: the VMM lives on its own
    return p.pid();
  }

  /** The last lines of a log, for error messages. */
  public static String tail(Path log, int maxLines) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - maxLines), lines.size()));
    } catch (IOException e) {
      return "(no " + log + ")";
    }
  }
}
