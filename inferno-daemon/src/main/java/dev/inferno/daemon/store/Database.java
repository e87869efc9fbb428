package dev.inferno.daemon.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The daemon's SQLite database: one connection (SQLite serializes writers anyway), WAL so readers
 * never block the writer, and schema migrations keyed on {@code PRAGMA user_version}: migration i
 * (1-based) runs when user_version &lt; i, inside a transaction that also bumps the version, so a
 * crash mid-migration leaves the previous version intact.
 */
public final class Database implements AutoCloseable {
  /** The daemon's schema, in order; append only — never edit a shipped migration. */
  static final List<String> MIGRATIONS =
      List.of(
          """
          CREATE TABLE vms (
            id            TEXT PRIMARY KEY,
            name          TEXT NOT NULL UNIQUE,
            image         TEXT NOT NULL,
            image_digest  TEXT,
            command       TEXT NOT NULL,
            request       TEXT NOT NULL,
            state         TEXT NOT NULL CHECK (state IN ('created', 'running', 'exited')),
            created_at    TEXT NOT NULL,
            started_at    TEXT,
            finished_at   TEXT,
            exit_code     INTEGER,
            exit_signal   TEXT,
            exit_oom      INTEGER NOT NULL DEFAULT 0,
            exit_reason   TEXT,
            pid           INTEGER,
            vmm           TEXT,
            auto_remove   INTEGER NOT NULL DEFAULT 0
          );
          CREATE INDEX vms_state ON vms(state);
          """);

  private final Connection conn;

  private Database(Connection conn) {
    this.conn = conn;
  }

  /** Opens (creating if needed) the database file and brings its schema up to date. */
  public static Database open(Path file) throws SQLException {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (java.io.IOException e) {
      throw new SQLException("cannot create " + file.getParent() + ": " + e.getMessage(), e);
    }
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA synchronous=NORMAL");
      s.execute("PRAGMA foreign_keys=ON");
      s.execute("PRAGMA busy_timeout=5000");
    }
    Database db = new Database(c);
    db.migrate(MIGRATIONS);
    return db;
  }

  /** Applies the migrations past the stored user_version. Visible for tests. */
  void migrate(List<String> migrations) throws SQLException {
    int current = userVersion();
    if (current > migrations.size()) {
      throw new SQLException(
          "the database's schema is version "
              + current
              + " but this inferno knows only up to "
              + migrations.size()
              + ": it was written by a newer inferno; upgrade inferno or move the state dir away");
    }
    for (int v = current + 1; v <= migrations.size(); v++) {
      boolean auto = conn.getAutoCommit();
      conn.setAutoCommit(false);
      try (Statement s = conn.createStatement()) {
        for (String stmt : migrations.get(v - 1).split(";")) {
          if (!stmt.isBlank()) {
            s.execute(stmt);
          }
        }
        s.execute("PRAGMA user_version = " + v);
        conn.commit();
      } catch (SQLException e) {
        conn.rollback();
        throw new SQLException("schema migration " + v + " failed: " + e.getMessage(), e);
      } finally {
        conn.setAutoCommit(auto);
      }
    }
  }

  /** The schema version stored in the file. */
  public int userVersion() throws SQLException {
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA user_version")) {
      return rs.next() ? rs.getInt(1) : 0;
    }
  }

  /** The connection; callers serialize their use of it (see {@link VmStore}). */
  public Connection connection() {
    return conn;
  }

  @Override
  public void close() throws SQLException {
    conn.close();
  }
}
