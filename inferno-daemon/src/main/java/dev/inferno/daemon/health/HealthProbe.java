package dev.inferno.daemon.health;

import dev.inferno.kiln.exec.ExecProcess;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.ExecStartException;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.model.Health;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one check as an exec in the VM (the VM's user, env and workdir: the request is built by
 * kiln's DockerRun.exec) and turns what came of it into Docker's result: its exit code and its
 * output (stdout and stderr, cut to {@value HealthRules#MAX_OUTPUT} bytes); a check that outlives
 * the timeout is killed and counts as -1, as does one that cannot start.
 */
final class HealthProbe {
  private HealthProbe() {}

  static Health.Result run(GuestExec guest, ExecRequest.Command cmd, Duration timeout)
      throws InterruptedException {
    Instant start = Instant.now();
    ExecProcess p;
    try {
      p = guest.open(cmd);
    } catch (ExecStartException e) {
      return new Health.Result(start, Instant.now(), -1, cut(e.getMessage()));
    } catch (IOException e) {
      return new Health.Result(
          start, Instant.now(), -1, cut("cannot run the health check: " + e.getMessage()));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread reader =
        Thread.ofVirtual()
            .start(() -> {
              try {
                for (ExecProcess.Output o = p.read(); o != null; o = p.read()) {
                  synchronized (out) {
                    int room = HealthRules.MAX_OUTPUT - out.size();
                    if (room > 0) {
                      out.write(o.bytes(), 0, Math.min(room, o.bytes().length));
                    }
                  }
                }
              } catch (IOException | InterruptedException e) {
                // the session ended: what was read is the output
              }
            });
    try {
      ExitReport r = p.exit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      reader.join(Duration.ofSeconds(1));
      return new Health.Result(start, Instant.now(), r.code(), text(out));
    } catch (TimeoutException e) {
      try {
        p.signal(9);
      } catch (IOException ex) {
        // gone already
      }
      return new Health.Result(
          start, Instant.now(), -1, "Health check exceeded timeout (" + seconds(timeout) + ")");
    } catch (ExecutionException e) {
      return new Health.Result(
          start, Instant.now(), -1, cut("the health check's session ended: " + e.getCause()));
    } finally {
      reader.interrupt();
      p.close();
    }
  }

  private static String text(ByteArrayOutputStream out) {
    synchronized (out) {
      return out.toString(StandardCharsets.UTF_8);
    }
  }

  private static String cut(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return b.length <= HealthRules.MAX_OUTPUT
        ? s
        : new String(b, 0, HealthRules.MAX_OUTPUT, StandardCharsets.UTF_8);
  }

  /** Go's duration text for whole seconds ("30s"), as Docker's message has it. */
  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
