package dev.inferno.image;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The image tables in the daemon's database. Idempotent; the daemon calls {@link #migrate} at start
 * (its own migrations own {@code user_version}; these tables only ever grow by IF NOT EXISTS).
 */
public final class ImageSchema {
  private ImageSchema() {}

  public static void migrate(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          """
          CREATE TABLE IF NOT EXISTS images (
            manifest_digest TEXT PRIMARY KEY,
            config_digest   TEXT NOT NULL,
            media_type      TEXT NOT NULL,
            platform        TEXT NOT NULL,
            config          TEXT NOT NULL,  -- the image config's "config" object, JSON
            blobs           TEXT NOT NULL,  -- JSON array of every blob digest the image keeps
            size            INTEGER NOT NULL,
            created         TEXT,
            pulled_at       TEXT NOT NULL,
            disk            TEXT NOT NULL
          )\
          """);
      s.execute(
          """
          CREATE TABLE IF NOT EXISTS image_refs (
            reference       TEXT PRIMARY KEY,  -- fully qualified: docker.io/library/alpine:latest
            manifest_digest TEXT NOT NULL REFERENCES images(manifest_digest) ON DELETE CASCADE
          )\
          """);
      s.execute("CREATE INDEX IF NOT EXISTS image_refs_by_digest ON image_refs(manifest_digest)");
    }
  }
}
