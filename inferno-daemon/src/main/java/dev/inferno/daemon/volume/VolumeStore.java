package dev.inferno.daemon.volume;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.store.StoreException;
import dev.inferno.image.ConnectionFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Volume rows in inferno.db, over a connection of their own (WAL: it never waits on the VM
 * store's). Which VMs use a volume is not stored here: their records' mounts say it, one source.
 */
public final class VolumeStore implements AutoCloseable {
  /** The table, appended to the daemon's Database.MIGRATIONS (this class owns its SQL). */
  public static final String V1 =
      """
      CREATE TABLE volumes (
        name        TEXT PRIMARY KEY,
        size_bytes  INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        labels      TEXT NOT NULL,
        anonymous   INTEGER NOT NULL DEFAULT 0
      );
      """;

  private final Connection conn;
  private final ObjectMapper json;
  private final ReentrantLock lock = new ReentrantLock();

  /** Opens a connection to the (already migrated) database file. */
  public VolumeStore(Path database, ObjectMapper json) throws SQLException {
    this.conn = ConnectionFactory.sqlite(database).open();
    this.json = json;
  }

  /** Inserts a new volume; false when the name is taken. */
  public boolean insert(VolumeRecord v) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "INSERT INTO volumes (name, size_bytes, created_at, labels, anonymous)"
                + " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
      ps.setString(1, v.name());
      ps.setLong(2, v.sizeBytes());
      ps.setString(3, v.createdAt().toString());
      ps.setString(4, json.writeValueAsString(v.labels()));
      ps.setInt(5, v.anonymous() ? 1 : 0);
      return ps.executeUpdate() == 1;
    } catch (SQLException | JsonProcessingException e) {
      throw failure("cannot record volume " + v.name(), e);
    } finally {
      lock.unlock();
    }
  }

  public boolean delete(String name) {
    lock.lock();
    try (PreparedStatement ps = conn.prepareStatement("DELETE FROM volumes WHERE name = ?")) {
      ps.setString(1, name);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw new StoreException("cannot delete volume " + name, e);
    } finally {
      lock.unlock();
    }
  }

  public Optional<VolumeRecord> get(String name) {
    List<VolumeRecord> l = select("WHERE name = ?", name);
    return l.isEmpty() ? Optional.empty() : Optional.of(l.getFirst());
  }

  /** Every volume, by name. */
  public List<VolumeRecord> all() {
    return select("");
  }

  private List<VolumeRecord> select(String where, Object... args) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT name, size_bytes, created_at, labels, anonymous FROM volumes "
                + where
                + " ORDER BY name")) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      List<VolumeRecord> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new VolumeRecord(
                  rs.getString(1),
                  rs.getLong(2),
                  Instant.parse(rs.getString(3)),
                  json.readValue(rs.getString(4), new TypeReference<Map<String, String>>() {}),
                  rs.getInt(5) != 0));
        }
      }
      return out;
    } catch (SQLException | JsonProcessingException e) {
      throw failure("cannot read the volume table", e);
    } finally {
      lock.unlock();
    }
  }

  private static StoreException failure(String what, Exception e) {
    return new StoreException(
        what, e instanceof SQLException s ? s : new SQLException(e.getMessage(), e));
  }

  @Override
  public void close() throws SQLException {
    conn.close();
  }
}
