package dev.inferno.model;

import java.util.Locale;

/** Life cycle of a VM as the API reports it: lowercase on the wire ({@code "running"}). */
public enum VmState {
  CREATED,
  RUNNING,
  EXITED;

  /** The wire spelling. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses the wire spelling (case-insensitive). */
  public static VmState parse(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }
}
