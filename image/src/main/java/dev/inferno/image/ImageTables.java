package dev.inferno.image;

import java.util.List;

/**
 * The image tables' schema, as data: the daemon's migration list (store/Database) includes these in
 * order, after its own; the image module's tests migrate a database with them alone. Append only —
 * never edit a shipped migration.
 */
public final class ImageTables {
  private ImageTables() {}

  /**
   * Version 1 of the image tables. IF NOT EXISTS because databases written before the daemon's
   * migrations owned these tables already have them, created the same way.
   */
  public static final String V1 =
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
      );
      CREATE TABLE IF NOT EXISTS image_refs (
        reference       TEXT PRIMARY KEY,  -- fully qualified: docker.io/library/alpine:latest
        manifest_digest TEXT NOT NULL REFERENCES images(manifest_digest) ON DELETE CASCADE
      );
      CREATE INDEX IF NOT EXISTS image_refs_by_digest ON image_refs(manifest_digest);
      """;

  /** The image tables' migrations, in order. */
  public static final List<String> MIGRATIONS = List.of(V1);
}
