package dev.inferno.kiln.vm;

import java.io.IOException;

/** The VMM could not be started, configured or stopped; the message says what to do. */
public class VmmException extends IOException {
  public VmmException(String message) {
    super(message);
  }

  public VmmException(String message, Throwable cause) {
    super(message, cause);
  }
}
