package dev.inferno.model.units;

import java.time.Duration;

/**
 * Durations as Docker prints them ("Up 5 minutes", "Exited (0) 2 hours ago"): the one owner of
 * go-units' {@code HumanDuration} rule, which both the inferno CLI and the Docker API's container
 * list ({@code Status}, printed as is by docker ps) follow.
 */
public final class Durations {
  private Durations() {}

  /** go-units' {@code HumanDuration}: "Less than a second", "About a minute", "3 days", … */
  public static String human(Duration d) {
    long seconds = Math.max(0, d.toSeconds()); // clocks may step back a little: never negative
    if (seconds < 1) {
      return "Less than a second";
    } else if (seconds == 1) {
      return "1 second";
    } else if (seconds < 60) {
      return seconds + " seconds";
    }
    long minutes = d.toMinutes();
    if (minutes == 1) {
      return "About a minute";
    } else if (minutes < 60) {
      return minutes + " minutes";
    }
    // go-units rounds hours to the nearest (int(d.Hours() + 0.5)); the larger units divide those
    long hours = (long) (d.toMillis() / 3_600_000.0 + 0.5);
    if (hours == 1) {
      return "About an hour";
    } else if (hours < 48) {
      return hours + " hours";
    } else if (hours < 24 * 7 * 2) {
      return hours / 24 + " days";
    } else if (hours < 24 * 30 * 2) {
      return hours / 24 / 7 + " weeks";
    } else if (hours < 24 * 365 * 2) {
      return hours / 24 / 30 + " months";
    }
    return d.toHours() / 24 / 365 + " years";
  }
}
