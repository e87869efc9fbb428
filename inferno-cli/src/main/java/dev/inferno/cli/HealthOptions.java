package dev.inferno.cli;

import dev.inferno.model.HealthConfig;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Docker's health-check flags of {@code run} (and {@code create}): each one given overrides that
 * field of the image's HEALTHCHECK (the daemon merges); {@code --no-healthcheck} disables it.
 */
final class HealthOptions {
  private final OptionSpec cmd =
      Verb.option(
          String.class,
          "command",
          "command to run to check health (through /bin/sh -c)",
          "--health-cmd");
  private final OptionSpec interval =
      Verb.option(
          String.class,
          "duration",
          "time between checks (ms|s|m|h), default 30s",
          "--health-interval");
  private final OptionSpec timeout =
      Verb.option(
          String.class,
          "duration",
          "longest a check may run (ms|s|m|h), default 30s",
          "--health-timeout");
  private final OptionSpec retries =
      Verb.option(
          Integer.class,
          "n",
          "consecutive failures to report unhealthy, default 3",
          "--health-retries");
  private final OptionSpec startPeriod =
      Verb.option(
          String.class,
          "duration",
          "failures in this time after the start do not count (ms|s|m|h)",
          "--health-start-period");
  private final OptionSpec none =
      Verb.flag("disable any health check the image specifies", "--no-healthcheck");

  CommandSpec addTo(CommandSpec spec) {
    return spec.addOption(cmd)
        .addOption(interval)
        .addOption(timeout)
        .addOption(retries)
        .addOption(startPeriod)
        .addOption(none);
  }

  /** The request's healthcheck, or null when no flag was given (the image's applies). */
  HealthConfig config() {
    String c = cmd.getValue();
    Long i = nanos(interval);
    Long t = nanos(timeout);
    Long s = nanos(startPeriod);
    Integer r = retries.getValue();
    if (r != null && r < 0) {
      throw new CliException("invalid --health-retries " + r + ": 0 or more");
    }
    if (Boolean.TRUE.equals(none.getValue())) {
      if (c != null || i != null || t != null || s != null || r != null) {
        throw new CliException(
            "--no-healthcheck conflicts with --health-* options: drop one of them");
      }
      return new HealthConfig(List.of("NONE"), null, null, null, null);
    }
    if (c == null && i == null && t == null && s == null && r == null) {
      return null;
    }
    return new HealthConfig(c == null ? null : List.of("CMD-SHELL", c), i, t, s, r);
  }

  private static Long nanos(OptionSpec o) {
    String v = o.getValue();
    if (v == null) {
      return null;
    }
    Duration d = TimeArgs.duration(v);
    if (d == null || (!d.isZero() && d.compareTo(Duration.ofMillis(1)) < 0)) {
      throw new CliException(
          "invalid "
              + o.longestName()
              + " \""
              + v
              + "\": a duration like 30s, 1m30s or 500ms (at least 1ms)");
    }
    return d.toNanos();
  }
}
