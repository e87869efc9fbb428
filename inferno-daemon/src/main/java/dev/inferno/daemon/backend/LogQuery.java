package dev.inferno.daemon.backend;

import java.time.Instant;

/**
 * Which log records to read.
 *
 * @param tail only the last N records (of those within since/until), or -1 for all
 * @param since only records at or after this time, or null
 * @param until only records before this time, or null
 * @param follow keep streaming new records until the VM exits
 */
public record LogQuery(int tail, Instant since, Instant until, boolean follow) {
  public static final LogQuery ALL = new LogQuery(-1, null, null, false);
  public static final LogQuery FOLLOW_ALL = new LogQuery(-1, null, null, true);

  /** Whether a record at time t is inside since/until. */
  public boolean admits(Instant t) {
    return (since == null || !t.isBefore(since)) && (until == null || t.isBefore(until));
  }
}
