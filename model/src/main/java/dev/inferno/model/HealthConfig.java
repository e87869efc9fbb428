package dev.inferno.model;

import java.util.List;

/**
 * A health check, shaped as Docker's {@code Healthcheck} (the image config's and the Engine API's):
 * durations in nanoseconds, null or 0 meaning "the default" (30 s interval, 30 s timeout, 0 start
 * period, 3 retries).
 *
 * @param test {@code ["NONE"]} (disabled), {@code ["CMD", exe, args…]} or {@code ["CMD-SHELL",
 *     command]}; empty or null: inherit the image's
 * @param intervalNanos time between checks
 * @param timeoutNanos how long one check may run before it counts as failed
 * @param startPeriodNanos failures during this period after start do not count
 * @param retries consecutive failures that make the VM unhealthy
 */
public record HealthConfig(
    List<String> test,
    Long intervalNanos,
    Long timeoutNanos,
    Long startPeriodNanos,
    Integer retries) {
  public HealthConfig {
    test = test == null ? null : List.copyOf(test);
  }
}
