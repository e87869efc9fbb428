package dev.inferno.cli;

/** An error to print as one line on stderr; status is the daemon's HTTP status, or 0. */
public final class CliException extends RuntimeException {
  private final int status;

  public CliException(String message) {
    this(message, 0);
  }

  public CliException(String message, int status) {
    super(message);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
