package dev.inferno.daemon.network;

import java.net.BindException;

/** A host port asked for by -p is taken; the message is meant for the user as it is. */
public final class PortInUseException extends BindException {
  private static final long serialVersionUID = 1L;

  PortInUseException(String message) {
    super(message);
  }
}
