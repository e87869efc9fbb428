package dev.inferno.daemon.network;

import java.io.IOException;

/** A host command (ip, nft) failed; the message names the command and carries its stderr. */
public final class CommandException extends IOException {
  private static final long serialVersionUID = 1L;

  CommandException(String message) {
    super(message);
  }

  CommandException(String message, Throwable cause) {
    super(message, cause);
  }
}
