package dev.inferno.kiln.logs;

import java.io.IOException;

/** A log file that kiln cannot read: the message names the file and what to do. */
public final class CorruptLogException extends IOException {
  private static final long serialVersionUID = 1L;

  public CorruptLogException(String message) {
    super(message);
  }
}
