package dev.inferno.image;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** Opens a connection to the daemon's SQLite database; each call returns a new one to close. */
@FunctionalInterface
public interface ConnectionFactory {
  Connection open() throws SQLException;

  /** A file database in WAL mode with a busy timeout, as the daemon uses it. */
  static ConnectionFactory sqlite(Path file) {
    String url = "jdbc:sqlite:" + file.toAbsolutePath();
    return () -> {
      Connection c = DriverManager.getConnection(url);
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA busy_timeout=10000");
        s.execute("PRAGMA foreign_keys=ON");
      }
      return c;
    };
  }
}
