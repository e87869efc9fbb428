package dev.inferno.daemon.backend;

/**
 * A backend failure whose message is written for the user; the kind picks the HTTP status (mapped
 * in one place, the API's error handler). Unchecked: it crosses the service layer untouched.
 */
public final class BackendException extends RuntimeException {
  /** What went wrong, as far as the API's status code cares. */
  public enum Kind {
    /** The thing asked for does not exist (404). */
    NOT_FOUND,
    /** The request is wrong (400). */
    INVALID,
    /** The current state forbids it (409). */
    CONFLICT,
    /** The registry rejected the credentials (401). */
    UNAUTHORIZED,
    /** A remote service (the registry) could not be reached (502). */
    UNREACHABLE,
    /** Something outside the request failed (500): IO, the VMM, the registry. */
    FAILED
  }

  private final Kind kind;

  public BackendException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public BackendException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
