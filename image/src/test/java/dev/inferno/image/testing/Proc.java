package dev.inferno.image.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion; fails the test on a non-zero exit unless asked not to. */
public final class Proc {
  public record Result(int code, String out) {}

  private Proc() {}

  public static String run(String... cmd) {
    Result r = exec(cmd);
    if (r.code() != 0) {
      throw new AssertionError(String.join(" ", cmd) + " failed (" + r.code() + "):\n" + r.out());
    }
    return r.out();
  }

  public static Result exec(String... cmd) {
    try {
      Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", cmd) + " timed out");
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
