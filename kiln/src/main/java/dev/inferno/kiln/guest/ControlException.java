package dev.inferno.kiln.guest;

import java.io.IOException;

/** A CONTROL request that could not be delivered or was not answered. */
public final class ControlException extends IOException {
  private static final long serialVersionUID = 1L;

  public ControlException(String message) {
    super(message);
  }

  public ControlException(String message, Throwable cause) {
    super(message, cause);
  }
}
