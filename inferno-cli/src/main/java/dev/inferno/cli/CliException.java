package dev.inferno.cli;

/**
 * An error to print as one line on stderr; status is the daemon's HTTP status, or 0. Bad input
 * (found before anything was created) exits 125, as docker's own failures do.
 */
public final class CliException extends RuntimeException {
  private final int status;
  private final boolean badInput;

  public CliException(String message) {
    this(message, 0);
  }

  public CliException(String message, int status) {
    this(message, status, false);
  }

  private CliException(String message, int status, boolean badInput) {
    super(message);
    this.status = status;
    this.badInput = badInput;
  }

  /** The command line asked for something invalid: exit 125. */
  static CliException badInput(String message) {
    return new CliException(message, 0, true);
  }

  public int status() {
    return status;
  }

  public boolean badInput() {
    return badInput;
  }
}
