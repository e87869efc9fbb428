package dev.inferno.daemon.health;

import dev.inferno.model.HealthConfig;
import java.time.Duration;
import java.util.List;

/**
 * Docker's health-check rules in one place: how the run's {@code --health-*} flags merge with the
 * image's HEALTHCHECK, what is valid, the defaults, and which command a test runs.
 */
public final class HealthRules {
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_START_PERIOD = Duration.ZERO;
  public static final int DEFAULT_RETRIES = 3;

  /** Docker's output cap per result and the number of results kept. */
  public static final int MAX_OUTPUT = 4096;

  public static final int MAX_LOG = 5;

  private static final long MIN_NANOS = 1_000_000; // Docker: a set duration is at least 1 ms

  private HealthRules() {}

  /**
   * The check a VM runs: the request's fields over the image's, field by field (Docker's merge: an
   * empty test or a 0 duration/retries inherits the image's). Null when neither has one.
   */
  public static HealthConfig merge(HealthConfig image, HealthConfig run) {
    if (run == null) {
      return image;
    }
    if (image == null) {
      return run;
    }
    return new HealthConfig(
        run.test() == null || run.test().isEmpty() ? image.test() : run.test(),
        set(run.intervalNanos()) ? run.intervalNanos() : image.intervalNanos(),
        set(run.timeoutNanos()) ? run.timeoutNanos() : image.timeoutNanos(),
        set(run.startPeriodNanos()) ? run.startPeriodNanos() : image.startPeriodNanos(),
        run.retries() != null && run.retries() != 0 ? run.retries() : image.retries());
  }

  private static boolean set(Long nanos) {
    return nanos != null && nanos != 0;
  }

  /**
   * Refuses what Docker refuses.
   *
   * @throws IllegalArgumentException with a message for the user
   */
  public static void validate(HealthConfig c) {
    if (c == null) {
      return;
    }
    List<String> t = c.test();
    if (t != null && !t.isEmpty()) {
      switch (t.getFirst()) {
        case "NONE" -> {
          if (t.size() != 1) {
            throw new IllegalArgumentException(
                "invalid healthcheck test " + t + ": NONE takes no arguments");
          }
        }
        case "CMD", "CMD-SHELL" -> {
          if (t.size() < 2 || t.get(1).isBlank()) {
            throw new IllegalArgumentException(
                "invalid healthcheck test " + t + ": " + t.getFirst() + " needs a command");
          }
          if (t.getFirst().equals("CMD-SHELL") && t.size() != 2) {
            throw new IllegalArgumentException(
                "invalid healthcheck test " + t + ": CMD-SHELL takes one command string");
          }
        }
        default ->
            throw new IllegalArgumentException(
                "invalid healthcheck test "
                    + t
                    + ": it starts with NONE, CMD or CMD-SHELL (e.g. [\"CMD-SHELL\", \"curl -f"
                    + " localhost\"])");
      }
    }
    duration("interval", c.intervalNanos());
    duration("timeout", c.timeoutNanos());
    duration("start period", c.startPeriodNanos());
    if (c.retries() != null && c.retries() < 0) {
      throw new IllegalArgumentException(
          "invalid health retries " + c.retries() + ": 0 (the default, 3) or more");
    }
  }

  private static void duration(String what, Long nanos) {
    if (nanos != null && (nanos < 0 || (nanos > 0 && nanos < MIN_NANOS))) {
      throw new IllegalArgumentException(
          "invalid health " + what + " " + Duration.ofNanos(nanos) + ": 0 or at least 1ms");
    }
  }

  /** Whether the VM has a check to run (a test, and not NONE). */
  public static boolean enabled(HealthConfig c) {
    return c != null
        && c.test() != null
        && !c.test().isEmpty()
        && !c.test().getFirst().equals("NONE");
  }

  /** The argv a test runs: CMD's as given, CMD-SHELL's through /bin/sh -c (Docker's shell). */
  public static List<String> argv(HealthConfig c) {
    List<String> t = c.test();
    return t.getFirst().equals("CMD-SHELL")
        ? List.of("/bin/sh", "-c", t.get(1))
        : List.copyOf(t.subList(1, t.size()));
  }

  public static Duration interval(HealthConfig c) {
    return orDefault(c.intervalNanos(), DEFAULT_INTERVAL);
  }

  public static Duration timeout(HealthConfig c) {
    return orDefault(c.timeoutNanos(), DEFAULT_TIMEOUT);
  }

  public static Duration startPeriod(HealthConfig c) {
    return orDefault(c.startPeriodNanos(), DEFAULT_START_PERIOD);
  }

  public static int retries(HealthConfig c) {
    return c.retries() == null || c.retries() <= 0 ? DEFAULT_RETRIES : c.retries();
  }

  private static Duration orDefault(Long nanos, Duration d) {
    return nanos == null || nanos == 0 ? d : Duration.ofNanos(nanos);
  }
}
