package dev.inferno.model;

import java.util.Locale;

/** Life cycle of a VM as the API reports it: lowercase on the wire ({@code "running"}). */
public enum VmState {
  CREATED,
  RUNNING,
  /** Running, its vCPUs stopped ({@code pause}); Docker's "paused". */
  PAUSED,
  /** Exited, with a restart by its restart policy pending; Docker's "restarting". */
  RESTARTING,
  EXITED;

  /** Whether a VMM runs for it (running or paused): what stop, kill, exec and pause act on. */
  public boolean live() {
    return this == RUNNING || this == PAUSED;
  }

  /** The wire spelling. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses the wire spelling (case-insensitive). */
  public static VmState parse(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
