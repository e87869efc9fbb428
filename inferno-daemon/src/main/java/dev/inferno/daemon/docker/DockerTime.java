package dev.inferno.daemon.docker;

import java.time.Instant;

/** Docker's times: RFC 3339 with nanoseconds in JSON, and Go's zero time for "never". */
public final class DockerTime {
  /** What dockerd writes for a time that never happened (a container never started). */
  public static final String ZERO = "0001-01-01T00:00:00Z";

  private DockerTime() {}

  /** RFC 3339 (UTC, nanoseconds as given), or {@link #ZERO} for null. */
  public static String format(Instant t) {
    return t == null ? ZERO : t.toString();
  }

  /** Unix seconds, as the list endpoints' {@code Created} (0 for null). */
  public static long unix(Instant t) {
    return t == null ? 0 : t.getEpochSecond();
  }
}
