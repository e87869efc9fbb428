package dev.inferno.daemon.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.PublishedPort;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/** VM rows: insert, update, look up and delete, serialized over the one connection. */
public final class VmStore {
  private static final String COLUMNS =
      "id, name, image, image_digest, command, request, state, created_at, started_at,"
          + " finished_at, exit_code, exit_signal, exit_oom, exit_reason, pid, vmm, auto_remove,"
          + " restart_count, stopped_by_hand, restart_at, restart_delay_ms";
  private static final String PLACES = "?, ".repeat(20) + "?";

  private final Connection conn;
  private final ObjectMapper json;
  private final ReentrantLock lock = new ReentrantLock();

  public VmStore(Database db, ObjectMapper json) {
    this.conn = db.connection();
    this.json = json;
  }

  /** Inserts a new VM; false when the name is taken (the caller reports the conflict). */
  public boolean insert(VmRecord r) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "INSERT INTO vms ("
                + COLUMNS
                + ") VALUES ("
                + PLACES
                + ")"
                + " ON CONFLICT DO NOTHING")) {
      bind(ps, r);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw new StoreException("cannot record VM " + r.name(), e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Gives the VM a new name (its row, and the name in its stored request); false when the name is
   * taken by another VM.
   */
  public boolean rename(VmRecord r, String newName) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement("UPDATE OR IGNORE vms SET name = ?, request = ? WHERE id = ?")) {
      ps.setString(1, newName);
      ps.setString(2, json.writeValueAsString(r.request().withName(newName)));
      ps.setString(3, r.id());
      return ps.executeUpdate() == 1;
    } catch (SQLException | JsonProcessingException e) {
      throw new StoreException(
          "cannot rename VM " + r.name(),
          e instanceof SQLException s ? s : new SQLException(e.getMessage(), e));
    } finally {
      lock.unlock();
    }
  }

  /** Replaces the row with the same id. */
  public void update(VmRecord r) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement("REPLACE INTO vms (" + COLUMNS + ") VALUES (" + PLACES + ")")) {
      bind(ps, r);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot update VM " + r.name(), e);
    } finally {
      lock.unlock();
    }
  }

  /** Deletes the VM and its network allocation (which frees its address) in one transaction. */
  public boolean delete(String id) {
    lock.lock();
    try {
      boolean auto = conn.getAutoCommit();
      conn.setAutoCommit(false);
      try (PreparedStatement net =
              conn.prepareStatement("DELETE FROM vm_networks WHERE vm_id = ?");
          PreparedStatement health =
              conn.prepareStatement("DELETE FROM vm_health WHERE vm_id = ?");
          PreparedStatement vm = conn.prepareStatement("DELETE FROM vms WHERE id = ?")) {
        net.setString(1, id);
        net.executeUpdate();
        health.setString(1, id);
        health.executeUpdate();
        vm.setString(1, id);
        boolean deleted = vm.executeUpdate() == 1;
        conn.commit();
        return deleted;
      } catch (SQLException e) {
        conn.rollback();
        throw e;
      } finally {
        conn.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw new StoreException("cannot delete VM " + id, e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Records a VM's network allocation; false when its device or subnet is already taken (another
   * VM's row holds it), so the caller can pick again.
   */
  public boolean insertNetwork(VmNetwork n) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "INSERT INTO vm_networks (vm_id, device, subnet, mac, mtu, ports)"
                + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
      ps.setString(1, n.vmId());
      ps.setString(2, n.device());
      ps.setString(3, n.subnet());
      ps.setString(4, n.mac());
      ps.setInt(5, n.mtu());
      ps.setString(6, json.writeValueAsString(n.ports()));
      return ps.executeUpdate() == 1;
    } catch (SQLException | JsonProcessingException e) {
      throw new StoreException(
          "cannot record the network of VM " + n.vmId(),
          e instanceof SQLException s ? s : new SQLException(e.getMessage(), e));
    } finally {
      lock.unlock();
    }
  }

  /**
   * Records a VM's published ports as they are now; a row that is gone (the VM was removed
   * meanwhile) stays gone.
   */
  public void updatePorts(String vmId, List<PublishedPort> ports) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement("UPDATE vm_networks SET ports = ? WHERE vm_id = ?")) {
      ps.setString(1, json.writeValueAsString(ports));
      ps.setString(2, vmId);
      ps.executeUpdate();
    } catch (SQLException | JsonProcessingException e) {
      throw new StoreException(
          "cannot record the ports of VM " + vmId,
          e instanceof SQLException s ? s : new SQLException(e.getMessage(), e));
    } finally {
      lock.unlock();
    }
  }

  /** Forgets a VM's network allocation (a create that failed after allocating). */
  /** Keeps a VM's health verdict (replacing the one it had). */
  public void saveHealth(VmHealth h) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "INSERT OR REPLACE INTO vm_health (vm_id, boot, status, failing_streak)"
                + " VALUES (?, ?, ?, ?)")) {
      ps.setString(1, h.vmId());
      ps.setString(2, str(h.boot()));
      ps.setString(3, h.status());
      ps.setInt(4, h.failingStreak());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot save the health of VM " + h.vmId(), e);
    } finally {
      lock.unlock();
    }
  }

  /** The VM's last kept health verdict, if any. */
  public Optional<VmHealth> health(String vmId) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT boot, status, failing_streak FROM vm_health WHERE vm_id = ?")) {
      ps.setString(1, vmId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new VmHealth(vmId, inst(rs.getString(1)), rs.getString(2), rs.getInt(3)))
            : Optional.empty();
      }
    } catch (SQLException e) {
      throw new StoreException("cannot read the health of VM " + vmId, e);
    } finally {
      lock.unlock();
    }
  }

  public void deleteNetwork(String vmId) {
    lock.lock();
    try (PreparedStatement ps = conn.prepareStatement("DELETE FROM vm_networks WHERE vm_id = ?")) {
      ps.setString(1, vmId);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("cannot delete the network of VM " + vmId, e);
    } finally {
      lock.unlock();
    }
  }

  public Optional<VmNetwork> network(String vmId) {
    List<VmNetwork> l = networks("WHERE vm_id = ?", vmId);
    return l.isEmpty() ? Optional.empty() : Optional.of(l.getFirst());
  }

  /** Every VM's network allocation. */
  public List<VmNetwork> networks() {
    return networks("");
  }

  private List<VmNetwork> networks(String where, Object... args) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT vm_id, device, subnet, mac, mtu, ports FROM vm_networks "
                + where
                + " ORDER BY vm_id")) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      List<VmNetwork> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new VmNetwork(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getInt(5),
                  json.readValue(rs.getString(6), new TypeReference<List<PublishedPort>>() {})));
        }
      }
      return out;
    } catch (SQLException | JsonProcessingException e) {
      throw new StoreException(
          "cannot read the network table",
          e instanceof SQLException s ? s : new SQLException(e.getMessage(), e));
    } finally {
      lock.unlock();
    }
  }

  public Optional<VmRecord> get(String id) {
    List<VmRecord> l = query("WHERE id = ?", id);
    return l.isEmpty() ? Optional.empty() : Optional.of(l.getFirst());
  }

  public Optional<VmRecord> byName(String name) {
    List<VmRecord> l = query("WHERE name = ?", name);
    return l.isEmpty() ? Optional.empty() : Optional.of(l.getFirst());
  }

  /** Ids starting with the prefix (hex only, so no LIKE escaping is needed). */
  public List<VmRecord> byIdPrefix(String prefix) {
    return query("WHERE substr(id, 1, ?) = ?", prefix.length(), prefix);
  }

  /** Every VM, newest first. */
  public List<VmRecord> all() {
    return query("");
  }

  public List<VmRecord> inState(VmState state) {
    return query("WHERE state = ?", state.wire());
  }

  /** All names, for suggestions. */
  public List<String> names() {
    return all().stream().map(VmRecord::name).toList();
  }

  private List<VmRecord> query(String where, Object... args) {
    lock.lock();
    try (PreparedStatement ps =
        conn.prepareStatement(
            "SELECT " + COLUMNS + " FROM vms " + where + " ORDER BY created_at DESC, id")) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      List<VmRecord> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(read(rs));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("cannot read the VM table", e);
    } finally {
      lock.unlock();
    }
  }

  private void bind(PreparedStatement ps, VmRecord r) throws SQLException {
    ps.setString(1, r.id());
    ps.setString(2, r.name());
    ps.setString(3, r.image());
    ps.setString(4, r.imageDigest());
    try {
      ps.setString(5, json.writeValueAsString(r.command()));
      ps.setString(6, json.writeValueAsString(r.request()));
    } catch (JsonProcessingException e) {
      throw new SQLException("cannot encode VM " + r.id() + ": " + e.getMessage(), e);
    }
    ps.setString(7, r.state().wire());
    ps.setString(8, str(r.createdAt()));
    ps.setString(9, str(r.startedAt()));
    ps.setString(10, str(r.finishedAt()));
    ExitRecord e = r.exit();
    if (e != null && e.code() != null) {
      ps.setInt(11, e.code());
    } else {
      ps.setNull(11, Types.INTEGER);
    }
    ps.setString(12, e == null ? null : e.signal());
    ps.setInt(13, e != null && e.oom() ? 1 : 0);
    ps.setString(14, e == null ? null : e.reason());
    if (r.pid() != null) {
      ps.setLong(15, r.pid());
    } else {
      ps.setNull(15, Types.INTEGER);
    }
    ps.setString(16, r.vmm());
    ps.setInt(17, r.autoRemove() ? 1 : 0);
    RestartState rs = r.restart();
    ps.setInt(18, rs.count());
    ps.setInt(19, rs.stoppedByHand() ? 1 : 0);
    ps.setString(20, str(rs.restartAt()));
    ps.setLong(21, rs.delayMillis());
  }

  private VmRecord read(ResultSet rs) throws SQLException {
    try {
      VmState state = VmState.parse(rs.getString("state"));
      Instant finished = inst(rs.getString("finished_at"));
      Integer code = rs.getObject("exit_code") == null ? null : rs.getInt("exit_code");
      ExitRecord exit =
          state == VmState.EXITED || state == VmState.RESTARTING
              ? new ExitRecord(
                  code,
                  rs.getString("exit_signal"),
                  rs.getInt("exit_oom") != 0,
                  rs.getString("exit_reason"),
                  finished)
              : null;
      Long pid = rs.getObject("pid") == null ? null : rs.getLong("pid");
      return new VmRecord(
          rs.getString("id"),
          rs.getString("name"),
          rs.getString("image"),
          rs.getString("image_digest"),
          json.readValue(rs.getString("command"), new TypeReference<List<String>>() {}),
          json.readValue(rs.getString("request"), RunRequest.class),
          state,
          Instant.parse(rs.getString("created_at")),
          inst(rs.getString("started_at")),
          finished,
          exit,
          pid,
          rs.getString("vmm"),
          rs.getInt("auto_remove") != 0,
          new RestartState(
              rs.getInt("restart_count"),
              rs.getInt("stopped_by_hand") != 0,
              inst(rs.getString("restart_at")),
              rs.getLong("restart_delay_ms")));
    } catch (JsonProcessingException e) {
      throw new SQLException("corrupt VM row " + rs.getString("id") + ": " + e.getMessage(), e);
    }
  }

  // fixed nine fraction digits, so that text order is time order (ORDER BY created_at)
  private static final DateTimeFormatter TIME =
      new DateTimeFormatterBuilder().appendInstant(9).toFormatter();

  private static String str(Instant t) {
    return t == null ? null : TIME.format(t);
  }

  private static Instant inst(String s) {
    return s == null ? null : Instant.parse(s);
  }
}
