package dev.inferno.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.Platform;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The image records: the SQL for the {@code images} and {@code image_refs} tables, and only that.
 */
final class ImageRecords {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SELECT =
      "SELECT i.manifest_digest, i.config_digest, i.platform, i.config, i.size, i.created, i.disk,"
          + " (SELECT json_group_array(reference) FROM"
          + "   (SELECT reference FROM image_refs r WHERE r.manifest_digest = i.manifest_digest"
          + "    ORDER BY reference)) FROM images i";

  private final ConnectionFactory db;

  ImageRecords(ConnectionFactory db) {
    this.db = db;
  }

  /** What every image record keeps: the blobs and disks garbage collection must not touch. */
  record Kept(Set<Digest> blobs, Set<Path> disks) {
    Kept {
      blobs = Set.copyOf(blobs);
      disks = Set.copyOf(disks);
    }
  }

  /** Records an image (replacing one with the same manifest digest) with the blobs it keeps. */
  void insert(Image image, String mediaType, Set<Digest> keep) {
    ArrayNode arr = JSON.createArrayNode();
    keep.stream().map(Digest::toString).sorted().forEach(arr::add);
    try (Connection c = db.open();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT OR REPLACE INTO images(manifest_digest, config_digest, media_type, platform,"
                    + " config, blobs, size, created, pulled_at, disk) VALUES(?,?,?,?,?,?,?,?,?,?)")) {
      ps.setString(1, image.manifestDigest().toString());
      ps.setString(2, image.configDigest().toString());
      ps.setString(3, mediaType);
      ps.setString(4, image.platform().toString());
      ps.setString(5, JSON.writeValueAsString(image.config()));
      ps.setString(6, JSON.writeValueAsString(arr));
      ps.setLong(7, image.size());
      ps.setString(8, image.created() == null ? null : image.created().toString());
      ps.setString(9, Instant.now().toString());
      ps.setString(10, image.disk().toString());
      ps.executeUpdate();
    } catch (SQLException | IOException e) {
      throw new ImageException("cannot record image: " + e.getMessage(), e);
    }
  }

  /** Points each reference at the image (moving it from another image if need be). */
  void tag(Digest manifest, List<String> refs) {
    try (Connection c = db.open();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO image_refs(reference, manifest_digest) VALUES(?, ?)"
                    + " ON CONFLICT(reference) DO UPDATE SET manifest_digest = excluded.manifest_digest")) {
      for (String r : refs) {
        ps.setString(1, r);
        ps.setString(2, manifest.toString());
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new ImageException("cannot record image: " + e.getMessage(), e);
    }
  }

  /** Removes references and, when {@code deleteImage}, the image record, in one transaction. */
  void remove(List<String> untag, Digest manifest, boolean deleteImage) {
    try (Connection c = db.open()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement("DELETE FROM image_refs WHERE reference = ?")) {
        for (String r : untag) {
          ps.setString(1, r);
          ps.executeUpdate();
        }
      }
      if (deleteImage) {
        try (PreparedStatement ps =
            c.prepareStatement("DELETE FROM images WHERE manifest_digest = ?")) {
          ps.setString(1, manifest.toString());
          ps.executeUpdate();
        }
      }
      c.commit();
    } catch (SQLException e) {
      throw new ImageException("cannot remove image record: " + e.getMessage(), e);
    }
  }

  /** The content size recorded for an image with this config (the disk it built is shared). */
  OptionalLong sizeForConfig(Digest config) {
    try (Connection c = db.open();
        PreparedStatement ps =
            c.prepareStatement("SELECT size FROM images WHERE config_digest = ?")) {
      ps.setString(1, config.toString());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
      }
    } catch (SQLException e) {
      throw new ImageException("cannot read image records: " + e.getMessage(), e);
    }
  }

  Kept kept() {
    Set<Digest> blobs = new HashSet<>();
    Set<Path> disks = new HashSet<>();
    for (Kept k : keptByImage().values()) {
      blobs.addAll(k.blobs());
      disks.addAll(k.disks());
    }
    return new Kept(blobs, disks);
  }

  /** What each image record keeps, by manifest digest. */
  Map<Digest, Kept> keptByImage() {
    Map<Digest, Kept> out = new LinkedHashMap<>();
    try (Connection c = db.open();
        PreparedStatement ps =
            c.prepareStatement("SELECT manifest_digest, blobs, disk FROM images");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Set<Digest> blobs = new HashSet<>();
        for (JsonNode d : JSON.readTree(rs.getString(2))) {
          blobs.add(Digest.parse(d.asText()));
        }
        out.put(Digest.parse(rs.getString(1)), new Kept(blobs, Set.of(Path.of(rs.getString(3)))));
      }
    } catch (SQLException | IOException e) {
      throw new ImageException("cannot read image records: " + e.getMessage(), e);
    }
    return out;
  }

  Optional<Image> byManifest(Digest d) {
    return query("WHERE i.manifest_digest = ?", d.toString()).stream().findFirst();
  }

  /** The image a fully qualified reference names. */
  Optional<Image> byReference(String reference) {
    return query(
            "WHERE i.manifest_digest = (SELECT manifest_digest FROM image_refs WHERE reference = ?)",
            reference)
        .stream()
        .findFirst();
  }

  /** Images whose config (image ID) or manifest digest starts with {@code hexPrefix}. */
  List<Image> byDigestPrefix(String hexPrefix) {
    return query(
        "WHERE substr(i.config_digest, 8) LIKE ? OR substr(i.manifest_digest, 8) LIKE ?",
        hexPrefix + "%",
        hexPrefix + "%");
  }

  /** Every image, newest first. */
  List<Image> all() {
    return query("");
  }

  private List<Image> query(String where, String... args) {
    try (Connection c = db.open();
        PreparedStatement ps =
            c.prepareStatement(SELECT + " " + where + " ORDER BY i.pulled_at DESC")) {
      for (int i = 0; i < args.length; i++) {
        ps.setString(i + 1, args[i]);
      }
      List<Image> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          List<String> refs = new ArrayList<>();
          for (JsonNode r : JSON.readTree(rs.getString(8))) {
            refs.add(r.asText());
          }
          String created = rs.getString(6);
          out.add(
              new Image(
                  refs,
                  Digest.parse(rs.getString(1)),
                  Digest.parse(rs.getString(2)),
                  Platform.parse(rs.getString(3)),
                  (ObjectNode) JSON.readTree(rs.getString(4)),
                  rs.getLong(5),
                  created == null ? null : Instant.parse(created),
                  Path.of(rs.getString(7))));
        }
      }
      return out;
    } catch (SQLException | IOException e) {
      throw new ImageException("cannot read image records: " + e.getMessage(), e);
    }
  }
}
