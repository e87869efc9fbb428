package dev.inferno.cli;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** --since/--until values: RFC 3339, Unix seconds, or a duration before now like 10m or 1h30m. */
final class TimeArgs {
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  private TimeArgs() {}

  /** The instant the argument names, relative durations counted back from now. */
  static Instant parse(String s, Instant now) {
    String t = s.trim();
    if (t.matches("\\d+(\\.\\d{1,9})?")) {
      BigDecimal d = new BigDecimal(t);
      long sec = d.longValue();
      return Instant.ofEpochSecond(
          sec, d.subtract(BigDecimal.valueOf(sec)).movePointRight(9).longValue());
    }
    Duration ago = duration(t);
    if (ago != null) {
      return now.minus(ago);
    }
    try {
      return OffsetDateTime.parse(t).toInstant();
    } catch (DateTimeParseException e) {
      throw new CliException(
          "invalid time \""
              + s
              + "\": use RFC 3339 (2026-11-28T19:00:00Z), Unix seconds, or a duration like 10m");
    }
  }

  /** A Go duration as Docker's flags take it (10m, 1h30m, 1.5s, 250ms), or null when it is none. */
  static Duration duration(String s) {
    String t = s.trim();
    if (t.isEmpty() || !Character.isDigit(t.charAt(0)) || !DURATION.matcher(t).lookingAt()) {
      return null;
    }
    Matcher m = DURATION.matcher(t);
    Duration total = Duration.ZERO;
    int end = 0;
    while (m.find() && m.start() == end) {
      BigDecimal n = new BigDecimal(m.group(1));
      long nanosPerUnit =
          switch (m.group(2)) {
            case "ns" -> 1L;
            case "us", "µs" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            default -> 3_600_000_000_000L;
          };
      total = total.plusNanos(n.multiply(BigDecimal.valueOf(nanosPerUnit)).longValue());
      end = m.end();
    }
    return end == t.length() ? total : null;
  }

  /** The query-string form the daemon takes: Unix seconds with nanoseconds. */
  static String query(Instant t) {
    return t.getEpochSecond() + "." + String.format("%09d", t.getNano());
  }
}
