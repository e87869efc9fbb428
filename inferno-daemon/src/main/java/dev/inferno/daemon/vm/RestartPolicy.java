package dev.inferno.daemon.vm;

import java.time.Duration;

/**
 * Docker's restart policies ({@code --restart no|on-failure[:N]|always|unless-stopped}) and the
 * decision moby's restart manager (daemon/internal/restartmanager) takes when a container exits:
 * one pure function of the exit and the bookkeeping, so that the rules are tested as a table.
 *
 * @param kind which policy
 * @param maxRetries for on-failure: at most this many restarts (0: no limit, as in Docker)
 */
public record RestartPolicy(Kind kind, int maxRetries) {
  /** The back-off: the first delay, its factor, its ceiling, and the run that resets it. */
  static final Duration FIRST_DELAY = Duration.ofMillis(100);

  static final int FACTOR = 2;
  static final Duration MAX_DELAY = Duration.ofMinutes(1);
  static final Duration RESET_AFTER = Duration.ofSeconds(10);

  public static final RestartPolicy NO = new RestartPolicy(Kind.NO, 0);

  public enum Kind {
    NO("no"),
    ON_FAILURE("on-failure"),
    ALWAYS("always"),
    UNLESS_STOPPED("unless-stopped");

    private final String wire;

    Kind(String wire) {
      this.wire = wire;
    }
  }

  /**
   * Parses Docker's spelling; null or empty is {@code no}.
   *
   * @throws IllegalArgumentException naming what is wrong and what is accepted
   */
  public static RestartPolicy parse(String s) {
    if (s == null || s.isEmpty()) {
      return NO;
    }
    int colon = s.indexOf(':');
    String name = colon < 0 ? s : s.substring(0, colon);
    for (Kind k : Kind.values()) {
      if (!k.wire.equals(name)) {
        continue;
      }
      if (colon < 0) {
        return new RestartPolicy(k, 0);
      }
      String n = s.substring(colon + 1);
      if (k != Kind.ON_FAILURE) {
        throw new IllegalArgumentException(
            "invalid restart policy \""
                + s
                + "\": maximum retry count can only be used with 'on-failure'");
      }
      int max;
      try {
        max = Integer.parseInt(n);
      } catch (NumberFormatException e) {
        max = -1;
      }
      if (max < 0) {
        throw new IllegalArgumentException(
            "invalid restart policy \""
                + s
                + "\": the retry count must be a whole number of 0 or more (on-failure:3)");
      }
      return new RestartPolicy(k, max);
    }
    throw new IllegalArgumentException(
        "invalid restart policy \"" + s + "\": no, on-failure[:N], always or unless-stopped");
  }

  public boolean none() {
    return kind == Kind.NO;
  }

  @Override
  public String toString() {
    return kind == Kind.ON_FAILURE && maxRetries > 0 ? kind.wire + ":" + maxRetries : kind.wire;
  }

  /**
   * What happened, as the restart manager sees it when a VM exits.
   *
   * @param exitCode the VM's exit code (a VM that gave none counts as failed: -1)
   * @param stoppedByHand the user stopped or killed it
   * @param cancelled a stop, a kill with the stop signal or SIGKILL, or rm cancelled restarts of
   *     this run (moby's ExitOnNext)
   * @param restartCount restarts so far
   * @param ran how long this boot ran
   * @param lastDelay the delay before the previous restart (zero: none yet)
   */
  public record Exit(
      int exitCode,
      boolean stoppedByHand,
      boolean cancelled,
      int restartCount,
      Duration ran,
      Duration lastDelay) {}

  /** The restart manager's answer. */
  public sealed interface Decision {
    /** The back-off delay to remember (moby keeps it even when it does not restart). */
    Duration delay();

    /** Boot again after {@code delay}; this will be restart number {@code count}. */
    record Restart(Duration delay, int count) implements Decision {}

    /** Stay exited. */
    record StayDown(Duration delay) implements Decision {}
  }

  /** moby's {@code RestartManager.ShouldRestart}, step for step. */
  public Decision decide(Exit e) {
    if (none()) {
      return new Decision.StayDown(e.lastDelay());
    }
    if (e.cancelled()) {
      return new Decision.StayDown(e.lastDelay());
    }
    Duration delay = e.ran().compareTo(RESET_AFTER) >= 0 ? Duration.ZERO : e.lastDelay();
    if (delay.isZero()) {
      delay = FIRST_DELAY;
    } else if (delay.compareTo(MAX_DELAY) < 0) {
      delay = delay.multipliedBy(FACTOR);
    }
    if (delay.compareTo(MAX_DELAY) > 0) {
      delay = MAX_DELAY;
    }
    boolean restart =
        switch (kind) {
          case ALWAYS -> true;
          case UNLESS_STOPPED -> !e.stoppedByHand();
          case ON_FAILURE ->
              (maxRetries == 0 || e.restartCount() < maxRetries) && e.exitCode() != 0;
          case NO -> false;
        };
    return restart
        ? new Decision.Restart(delay, e.restartCount() + 1)
        : new Decision.StayDown(delay);
  }

  /**
   * At daemon start, for a VM that is not running: whether it comes back (moby's restore calls
   * {@code ShouldRestart} with the last exit; only VMs that were started before). {@code always}
   * comes back even when stopped by hand, {@code unless-stopped} only when it was not.
   */
  public boolean atDaemonStart(int exitCode, boolean stoppedByHand, int restartCount) {
    return decide(
            new Exit(exitCode, stoppedByHand, false, restartCount, Duration.ZERO, Duration.ZERO))
        instanceof Decision.Restart;
  }
}
