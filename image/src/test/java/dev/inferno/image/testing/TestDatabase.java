package dev.inferno.image.testing;

import dev.inferno.image.ConnectionFactory;
import dev.inferno.image.ImageTables;
import dev.inferno.image.SchemaMigrations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * A database with the image tables, migrated the way the daemon migrates its own (here with the
 * image tables' migrations alone), for the image module's tests.
 */
public final class TestDatabase {
  private TestDatabase() {}

  public static ConnectionFactory migrated(Path file) {
    ConnectionFactory db = ConnectionFactory.sqlite(file);
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      try (Connection c = db.open()) {
        SchemaMigrations.migrate(c, ImageTables.MIGRATIONS);
      }
    } catch (SQLException | java.io.IOException e) {
      throw new IllegalStateException("cannot create the test database " + file, e);
    }
    return db;
  }
}
