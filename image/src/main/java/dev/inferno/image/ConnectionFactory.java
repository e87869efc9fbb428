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

  /**
   * The one connection setup for inferno.db, used by the image module and the daemon's own store
   * alike: WAL so readers never block the writer, synchronous=NORMAL (durable at each checkpoint,
   * never corrupt, in WAL mode), foreign keys on, and a busy timeout long enough to wait out the
   * other connections' writes.
   */
  static ConnectionFactory sqlite(Path file) {
    String url = "jdbc:sqlite:" + file.toAbsolutePath();
    return () -> {
      Connection c = DriverManager.getConnection(url);
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA synchronous=NORMAL");
        s.execute("PRAGMA foreign_keys=ON");
        s.execute("PRAGMA busy_timeout=10000");
      } catch (SQLException e) {
        c.close();
        throw e;
      }
      return c;
    };
  }
}
