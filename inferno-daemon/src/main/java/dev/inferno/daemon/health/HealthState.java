package dev.inferno.daemon.health;

import dev.inferno.model.Health;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;

/**
 * One boot's health, as moby's probe handling keeps it: {@code starting} until a check passes or
 * enough fail; a pass makes it {@code healthy} and clears the streak; {@code retries} failures in a
 * row make it {@code unhealthy}, except that while still starting, failures within the start period
 * do not count. The last {@value HealthRules#MAX_LOG} results are kept.
 */
public final class HealthState {
  public static final String STARTING = "starting";
  public static final String HEALTHY = "healthy";
  public static final String UNHEALTHY = "unhealthy";

  private final Instant bootedAt;
  private final Duration startPeriod;
  private final int retries;
  private final ArrayDeque<Health.Result> log = new ArrayDeque<>();
  private String status = STARTING;
  private int failingStreak;

  public HealthState(Instant bootedAt, Duration startPeriod, int retries) {
    this(bootedAt, startPeriod, retries, STARTING, 0);
  }

  /** A boot's health taken up again (a daemon restart): its last status and failing streak. */
  public HealthState(
      Instant bootedAt, Duration startPeriod, int retries, String status, int failingStreak) {
    this.bootedAt = bootedAt;
    this.startPeriod = startPeriod;
    this.retries = retries;
    this.status = status;
    this.failingStreak = failingStreak;
  }

  /** Records one check; returns the new status when it changed (an event to publish), else null. */
  public synchronized String record(Health.Result r) {
    log.addLast(r);
    while (log.size() > HealthRules.MAX_LOG) {
      log.removeFirst();
    }
    String before = status;
    if (r.exitCode() == 0) {
      failingStreak = 0;
      status = HEALTHY;
    } else {
      boolean counts =
          !status.equals(STARTING)
              || Duration.between(bootedAt, r.start()).compareTo(startPeriod) >= 0;
      if (counts) {
        failingStreak++;
        if (failingStreak >= retries) {
          status = UNHEALTHY;
        }
      }
    }
    return status.equals(before) ? null : status;
  }

  public synchronized String status() {
    return status;
  }

  public synchronized Health view() {
    return new Health(status, failingStreak, List.copyOf(log));
  }
}
