package dev.inferno.image.registry;

/** A registry answered with an error, or could not be reached; the message says what to do. */
public class RegistryException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;

  public RegistryException(String message, int status) {
    super(message);
    this.status = status;
  }

  public RegistryException(String message, Throwable cause) {
    super(message, cause);
    this.status = 0;
  }

  /** The HTTP status, or 0 when there was no answer. */
  public int status() {
    return status;
  }
}
