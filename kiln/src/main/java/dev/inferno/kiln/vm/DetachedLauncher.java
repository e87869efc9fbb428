package dev.inferno.kiln.vm;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts a program so that it outlives the JVM: {@code setsid --fork} puts it in a new session (no
 * signal from our terminal or process group reaches it) and re-parents it away from us; a shell
 * records its pid and execs the program, so the recorded pid is the program's. stdin is /dev/null,
 * stdout and stderr append to a log file.
 */
public final class DetachedLauncher {
  private static final String SCRIPT =
      "echo $$ >\"$0.tmp\" && mv -f \"$0.tmp\" \"$0\" && exec \"$@\"";

  private DetachedLauncher() {}

  /** Launches argv detached and returns its pid once known. */
  public static long launch(List<String> argv, Path pidFile, Path log, Path workDir)
      throws IOException {
    Files.deleteIfExists(pidFile);
    List<String> cmd = new ArrayList<>(List.of("setsid", "--fork", "sh", "-c", SCRIPT));
    cmd.add(pidFile.toString());
    cmd.addAll(argv);
    Process p =
        new ProcessBuilder(cmd)
            .directory(workDir.toFile())
            .redirectInput(Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(Redirect.appendTo(log.toFile()))
            .redirectErrorStream(true)
            .start();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new VmmException("setsid failed to launch " + argv.getFirst() + ": see " + log);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!Files.exists(pidFile)) {
        if (System.nanoTime() > deadline) {
          throw new VmmException(
              "launched " + argv.getFirst() + " but it never recorded its pid: see " + log);
        }
        Thread.sleep(2);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VmmException("interrupted while launching " + argv.getFirst(), e);
    }
    long pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).strip());
    Files.deleteIfExists(pidFile);
    return pid;
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
