package dev.inferno.daemon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {
  @TempDir Path dir;

  @Test
  void freshDatabaseIsMigratedToTheLatestVersionInWalMode() throws SQLException {
    try (Database db = Database.open(dir.resolve("sub/inferno.db"))) {
      assertThat(db.userVersion()).isEqualTo(Database.MIGRATIONS.size());
      try (Statement s = db.connection().createStatement();
          ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("wal");
      }
      try (Statement s = db.connection().createStatement();
          ResultSet rs = s.executeQuery("SELECT count(*) FROM vms")) {
        rs.next();
        assertThat(rs.getInt(1)).isZero();
      }
    }
    // reopening runs nothing again (a second CREATE TABLE would fail)
    try (Database db = Database.open(dir.resolve("sub/inferno.db"))) {
      assertThat(db.userVersion()).isEqualTo(Database.MIGRATIONS.size());
    }
  }

  @Test
  void laterMigrationsApplyOnTopAndAFailingOneRollsBack() throws SQLException {
    Path file = dir.resolve("m.db");
    try (Database db = Database.open(file)) {
      int v = db.userVersion();
      db.migrate(
          List.of(
              Database.MIGRATIONS.get(0),
              "CREATE TABLE extra (x INTEGER); INSERT INTO extra VALUES (7)"));
      assertThat(db.userVersion()).isEqualTo(v + 1);
      assertThatThrownBy(() ->
              db.migrate(
                  List.of(
                      Database.MIGRATIONS.get(0),
                      "CREATE TABLE extra (x INTEGER); INSERT INTO extra VALUES (7)",
                      "INSERT INTO extra VALUES (8); CREATE TABLE extra (y)")))
          .hasMessageContaining("schema migration 3 failed");
      assertThat(db.userVersion()).isEqualTo(v + 1);
      try (Statement s = db.connection().createStatement();
          ResultSet rs = s.executeQuery("SELECT count(*) FROM extra")) {
        rs.next();
        assertThat(rs.getInt(1)).as("the failed migration's insert was rolled back").isEqualTo(1);
      }
    }
  }

  @Test
  void aDatabaseFromANewerInfernoIsRefused() throws SQLException {
    Path file = dir.resolve("new.db");
    try (Database db = Database.open(file);
        Statement s = db.connection().createStatement()) {
      s.execute("PRAGMA user_version = 99");
    }
    assertThatThrownBy(() -> Database.open(file))
        .hasMessageContaining("version 99")
        .hasMessageContaining("newer inferno");
  }
}
