package dev.inferno.daemon.network;

/** A -p / EXPOSE value that does not parse; the message is meant for the user as it is. */
public final class InvalidPortSpecException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  InvalidPortSpecException(String spec, String problem) {
    super("invalid port publication '" + spec + "': " + problem);
  }
}
