package dev.inferno.image;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The one schema mechanism for inferno.db: migrations keyed on {@code PRAGMA user_version}.
 * Migration i (1-based) runs when user_version &lt; i, inside a transaction that also bumps the
 * version, so a crash mid-migration leaves the previous version intact. The daemon's list
 * (store/Database) includes the image tables ({@link ImageTables}); the image module's tests apply
 * {@link ImageTables#MIGRATIONS} alone through the same code.
 */
public final class SchemaMigrations {
  private SchemaMigrations() {}

  /** Applies the migrations past the stored user_version; each is ';'-separated statements. */
  public static void migrate(Connection conn, List<String> migrations) throws SQLException {
    int current = userVersion(conn);
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
        for (String stmt : migrations.get(v - 1).split(";", -1)) {
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
  public static int userVersion(Connection conn) throws SQLException {
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA user_version")) {
      return rs.next() ? rs.getInt(1) : 0;
    }
  }
}
