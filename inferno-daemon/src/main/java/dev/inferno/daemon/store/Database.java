package dev.inferno.daemon.store;

import dev.inferno.daemon.volume.VolumeStore;
import dev.inferno.image.ConnectionFactory;
import dev.inferno.image.ImageTables;
import dev.inferno.image.SchemaMigrations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * The daemon's SQLite database: one connection for the VM records (SQLite serializes writers
 * anyway), opened with the one connection setup ({@link ConnectionFactory#sqlite}, which the image
 * module's connections use too), and the whole file's schema — the VM tables and the image tables —
 * brought up to date by the one migration mechanism ({@link SchemaMigrations}, keyed on {@code
 * PRAGMA user_version}).
 */
public final class Database implements AutoCloseable {
  /**
   * The schema of inferno.db, in order; append only — never edit a shipped migration. The image
   * tables' migrations come from the image module, which owns their SQL.
   */
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
          """,
          ImageTables.V1,
          // a VM's network allocation (issue 10): deleted with the VM by VmStore.delete; no
          // foreign key, since VmStore.update replaces the vms row
          """
          CREATE TABLE vm_networks (
            vm_id   TEXT PRIMARY KEY,
            device  TEXT NOT NULL UNIQUE,
            subnet  TEXT NOT NULL UNIQUE,
            mac     TEXT NOT NULL,
            mtu     INTEGER NOT NULL,
            ports   TEXT NOT NULL
          );
          """,
          // issue 12 (life cycle): the paused and restarting states, and the restart policy's
          // bookkeeping (RestartState); SQLite cannot widen a CHECK, so the table is rebuilt
          """
          CREATE TABLE vms_new (
            id            TEXT PRIMARY KEY,
            name          TEXT NOT NULL UNIQUE,
            image         TEXT NOT NULL,
            image_digest  TEXT,
            command       TEXT NOT NULL,
            request       TEXT NOT NULL,
            state         TEXT NOT NULL
                          CHECK (state IN ('created', 'running', 'paused', 'restarting', 'exited')),
            created_at    TEXT NOT NULL,
            started_at    TEXT,
            finished_at   TEXT,
            exit_code     INTEGER,
            exit_signal   TEXT,
            exit_oom      INTEGER NOT NULL DEFAULT 0,
            exit_reason   TEXT,
            pid           INTEGER,
            vmm           TEXT,
            auto_remove   INTEGER NOT NULL DEFAULT 0,
            restart_count INTEGER NOT NULL DEFAULT 0,
            stopped_by_hand INTEGER NOT NULL DEFAULT 0,
            restart_at    TEXT,
            restart_delay_ms INTEGER NOT NULL DEFAULT 0
          );
          INSERT INTO vms_new (id, name, image, image_digest, command, request, state, created_at,
            started_at, finished_at, exit_code, exit_signal, exit_oom, exit_reason, pid, vmm,
            auto_remove)
            SELECT id, name, image, image_digest, command, request, state, created_at, started_at,
              finished_at, exit_code, exit_signal, exit_oom, exit_reason, pid, vmm, auto_remove
            FROM vms;
          DROP TABLE vms;
          ALTER TABLE vms_new RENAME TO vms;
          CREATE INDEX vms_state ON vms(state);
          """,
          // volumes (issue 12): the volume package owns the SQL
          VolumeStore.V1,
          // a running VM's health verdict, so that a daemon restart keeps it (VmStore.saveHealth)
          """
          CREATE TABLE vm_health (
            vm_id          TEXT PRIMARY KEY,
            boot           TEXT NOT NULL,
            status         TEXT NOT NULL,
            failing_streak INTEGER NOT NULL
          );
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
    Connection c = ConnectionFactory.sqlite(file).open();
    Database db = new Database(c);
    try {
      db.migrate(MIGRATIONS);
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    return db;
  }

  /** Applies the migrations past the stored user_version. Visible for tests. */
  void migrate(List<String> migrations) throws SQLException {
    SchemaMigrations.migrate(conn, migrations);
  }

  /** The schema version stored in the file. */
  public int userVersion() throws SQLException {
    return SchemaMigrations.userVersion(conn);
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
