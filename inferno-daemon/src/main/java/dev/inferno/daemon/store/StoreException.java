package dev.inferno.daemon.store;

import java.sql.SQLException;

/**
 * The database failed underneath a store (disk full, a corrupt row, a locked file): unchecked, so
 * the services need not carry SQL in their signatures; the API answers 500 with the message.
 */
public final class StoreException extends RuntimeException {
  public StoreException(String message, SQLException cause) {
    super(message + ": " + cause.getMessage(), cause);
  }
}
