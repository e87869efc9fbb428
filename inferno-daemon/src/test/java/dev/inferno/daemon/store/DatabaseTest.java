package dev.inferno.daemon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.image.ConnectionFactory;
import dev.inferno.image.Image;
import dev.inferno.image.ImageService;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.RegistryClient;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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
      List<String> plusOne = new ArrayList<>(Database.MIGRATIONS);
      plusOne.add("CREATE TABLE extra (x INTEGER); INSERT INTO extra VALUES (7)");
      db.migrate(plusOne);
      assertThat(db.userVersion()).isEqualTo(v + 1);
      List<String> plusTwo = new ArrayList<>(plusOne);
      plusTwo.add("INSERT INTO extra VALUES (8); CREATE TABLE extra (y)");
      assertThatThrownBy(() -> db.migrate(plusTwo))
          .hasMessageContaining("schema migration " + (v + 2) + " failed");
      assertThat(db.userVersion()).isEqualTo(v + 1);
      try (Statement s = db.connection().createStatement();
          ResultSet rs = s.executeQuery("SELECT count(*) FROM extra")) {
        rs.next();
        assertThat(rs.getInt(1)).as("the failed migration's insert was rolled back").isEqualTo(1);
      }
    }
  }

  /**
   * A database written before the daemon's migrations owned the image tables: version 1 (the vms
   * table), the image tables made by the image module's own CREATE IF NOT EXISTS, an image in them.
   * It migrates to the current version and the image is still there.
   */
  @Test
  void aVersion1DatabaseWithTheOldImageTablesMigratesAndKeepsItsImages() throws Exception {
    Path file = dir.resolve("old.db");
    try (Connection c = version1(file);
        Statement s = c.createStatement()) {
      s.execute(
          """
          CREATE TABLE IF NOT EXISTS images (
            manifest_digest TEXT PRIMARY KEY,
            config_digest   TEXT NOT NULL,
            media_type      TEXT NOT NULL,
            platform        TEXT NOT NULL,
            config          TEXT NOT NULL,
            blobs           TEXT NOT NULL,
            size            INTEGER NOT NULL,
            created         TEXT,
            pulled_at       TEXT NOT NULL,
            disk            TEXT NOT NULL
          )\
          """);
      s.execute(
          """
          CREATE TABLE IF NOT EXISTS image_refs (
            reference       TEXT PRIMARY KEY,
            manifest_digest TEXT NOT NULL REFERENCES images(manifest_digest) ON DELETE CASCADE
          )\
          """);
      s.execute("CREATE INDEX IF NOT EXISTS image_refs_by_digest ON image_refs(manifest_digest)");
      s.execute(
          "INSERT INTO images VALUES('sha256:"
              + "a".repeat(64)
              + "', 'sha256:"
              + "b".repeat(64)
              + "', 'application/vnd.oci.image.manifest.v1+json', 'linux/amd64',"
              + " '{\"Cmd\":[\"sh\"]}', '[]', 42, NULL, '2026-01-01T00:00:00Z', '/d.ext4')");
      s.execute(
          "INSERT INTO image_refs VALUES('docker.io/library/old:1', 'sha256:"
              + "a".repeat(64)
              + "')");
    }
    try (Database db = Database.open(file)) {
      assertThat(db.userVersion()).isEqualTo(Database.MIGRATIONS.size());
    }
    ImageService images =
        new ImageService(
            dir.resolve("state"),
            ConnectionFactory.sqlite(file),
            new RegistryClient(CredentialSource.NONE, Set.of()));
    Image old = images.find("old:1").orElseThrow();
    assertThat(old.size()).isEqualTo(42);
    assertThat(old.references()).containsExactly("docker.io/library/old:1");
    assertThat(old.config().get("Cmd").get(0).asText()).isEqualTo("sh");
  }

  @Test
  void aVersion1DatabaseWithoutImageTablesGetsThem() throws Exception {
    Path file = dir.resolve("v1.db");
    version1(file).close();
    try (Database db = Database.open(file)) {
      assertThat(db.userVersion()).isEqualTo(Database.MIGRATIONS.size());
    }
    ImageService images =
        new ImageService(
            dir.resolve("state"),
            ConnectionFactory.sqlite(file),
            new RegistryClient(CredentialSource.NONE, Set.of()));
    assertThat(images.list()).isEmpty();
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

  /** A database as version 1 left it: the vms table, user_version 1. */
  private static Connection version1(Path file) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
    try (Statement s = c.createStatement()) {
      for (String stmt : Database.MIGRATIONS.get(0).split(";", -1)) {
        if (!stmt.isBlank()) {
          s.execute(stmt);
        }
      }
      s.execute("PRAGMA user_version = 1");
    }
    return c;
  }
}
