package dev.inferno.model;

import java.time.Instant;
import java.util.List;

/**
 * A VM's health as inspect shows it (Docker's {@code State.Health}).
 *
 * @param status {@code starting}, {@code healthy} or {@code unhealthy}
 * @param failingStreak consecutive failed checks
 * @param log the last results, oldest first (Docker keeps 5)
 */
public record Health(String status, int failingStreak, List<Result> log) {
  public Health {
    log = log == null ? List.of() : List.copyOf(log);
  }

  /**
   * One check.
   *
   * @param start when it started
   * @param end when it ended
   * @param exitCode 0 healthy, 1 unhealthy (Docker's meaning); a timeout or a failure to run is -1
   * @param output its output, cut to 4 KiB as Docker does
   */
  public record Result(Instant start, Instant end, int exitCode, String output) {}
}
