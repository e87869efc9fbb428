package dev.inferno.kiln.logs;

/** Which clock a {@code since} query is about. */
public enum TimeBase {
  /** The host's wall clock when kiln received the record. */
  HOST,
  /** The guest's CLOCK_REALTIME when init read the bytes. */
  GUEST
}
