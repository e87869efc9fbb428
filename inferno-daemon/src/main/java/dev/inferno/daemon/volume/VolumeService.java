package dev.inferno.daemon.volume;

import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.backend.Storage;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.store.VmStore;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.EventBus;
import dev.inferno.kiln.vm.WritableDisk;
import dev.inferno.model.Mount;
import dev.inferno.model.MountGrammar;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import dev.inferno.model.Volume;
import dev.inferno.model.VolumeCreateRequest;
import dev.inferno.model.VolumePruneResult;
import dev.inferno.sys.FileNodes;
import dev.inferno.sys.SyscallException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Volumes: ext4 image files under {@code <state-dir>/volumes/<name>/volume.ext4}, sparse, made by
 * kiln's {@link WritableDisk} (the one owner of mke2fs's flags). Create, list, inspect, remove,
 * prune; and for the VM life cycle: turning a request's mounts and the image's VOLUMEs into the
 * VM's mounts at create, claiming them at every boot (a read-write volume is in one running VM at a
 * time; read-only ones in many, but not beside a read-write one), releasing them at exit. Publishes
 * the volume events: volume-created and volume-removed when a volume is made or deleted (by any
 * verb), volume-mounted and volume-unmounted when a VM's boot claims and releases it.
 */
public final class VolumeService implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(VolumeService.class.getName());
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The smallest volume mke2fs makes a useful ext4 of (and a journal). */
  public static final long MIN_SIZE = 8L << 20;

  private final VolumeStore store;
  private final VmStore vms;
  private final Path dir;
  private final long defaultSize;
  private final EventBus events;

  /** Serializes what changes volumes or claims. */
  private final ReentrantLock lock = new ReentrantLock();

  /** volume → VM id → the claim of a booted VM. */
  private final Map<String, Map<String, Claim>> claims = new HashMap<>();

  private record Claim(String vmName, boolean readWrite) {}

  /** The attributes every volume event carries (Docker's driver). */
  private static final Map<String, String> DRIVER = Map.of("driver", "local");

  /**
   * @param dir where the volume files live ({@code <state-dir>/volumes})
   * @param defaultSize a volume's size when its creator does not say (config {@code volume-size})
   * @param events where the volume events go (the VMs' bus)
   */
  public VolumeService(
      VolumeStore store, VmStore vms, Path dir, long defaultSize, EventBus events) {
    this.store = store;
    this.vms = vms;
    this.dir = dir;
    this.defaultSize = defaultSize;
    this.events = events;
  }

  // ---- the API's verbs

  /**
   * Creates a volume; a named one that exists is returned as it is (Docker's volume create is
   * idempotent).
   */
  public Volume create(VolumeCreateRequest req) {
    String name = req.name() == null || req.name().isEmpty() ? null : req.name();
    if (name != null) {
      String p = MountGrammar.volumeNameProblem(name);
      if (p != null) {
        throw ApiException.badRequest(p);
      }
    }
    long size = req.sizeBytes() == null ? defaultSize : req.sizeBytes();
    if (size < MIN_SIZE) {
      throw ApiException.badRequest(
          "invalid volume size " + size + ": at least " + (MIN_SIZE >> 20) + " MiB");
    }
    lock.lock();
    try {
      if (name != null) {
        var existing = store.get(name);
        if (existing.isPresent()) {
          return view(existing.get(), users(), false);
        }
      }
      VolumeRecord v = make(name, size, req.labels(), name == null);
      return view(v, users(), false);
    } finally {
      lock.unlock();
    }
  }

  public List<Volume> list() {
    return list(false);
  }

  /** Every volume; with {@code usage}, each with what its file takes on disk (df, inspect). */
  public List<Volume> list(boolean usage) {
    Map<String, List<String>> users = users();
    return store.all().stream().map(v -> view(v, users, usage)).toList();
  }

  public Volume inspect(String name) {
    return view(find(name), users(), true);
  }

  /**
   * Removes a volume no VM uses (Docker refuses while any container, running or not, mounts it);
   * with force a missing one is not an error.
   */
  public void remove(String name, boolean force) {
    lock.lock();
    try {
      var v = store.get(name);
      if (v.isEmpty()) {
        if (force) {
          return;
        }
        throw notFound(name);
      }
      List<String> by = users().getOrDefault(name, List.of());
      if (!by.isEmpty()) {
        throw ApiException.conflict(
            "volume "
                + name
                + " is in use by VM "
                + String.join(", ", names(by))
                + ": remove the VM first (inferno rm)");
      }
      delete(name);
    } finally {
      lock.unlock();
    }
  }

  /** Removes the volumes no VM uses: anonymous ones, or with all named ones too (Docker ≥ 23). */
  public VolumePruneResult prune(boolean all) {
    return prune(all, v -> true);
  }

  /** As {@link #prune(boolean)}, only among the volumes {@code which} admits (Docker's filters). */
  public VolumePruneResult prune(boolean all, java.util.function.Predicate<VolumeRecord> which) {
    lock.lock();
    try {
      Map<String, List<String>> users = users();
      List<String> removed = new ArrayList<>();
      long reclaimed = 0;
      for (VolumeRecord v : store.all()) {
        if ((all || v.anonymous()) && !users.containsKey(v.name()) && which.test(v)) {
          Long used = allocated(file(v.name()));
          delete(v.name());
          removed.add(v.name());
          reclaimed += used == null ? 0 : used;
        }
      }
      return new VolumePruneResult(removed, reclaimed);
    } finally {
      lock.unlock();
    }
  }

  // ---- the VM life cycle

  /**
   * A new VM's mounts, before anything is created: the request's checked ({@link
   * MountGrammar#check}: binds refused), a name for each anonymous volume, an anonymous volume for
   * every image VOLUME no mount covers; a read-write volume a running VM holds is refused now.
   */
  public List<Mount> plan(RunRequest req, ImageInfo image) {
    try {
      MountGrammar.check(req.mounts());
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    List<Mount> out = new ArrayList<>();
    Set<String> targets = new HashSet<>();
    for (Mount m : req.mounts() == null ? List.<Mount>of() : req.mounts()) {
      String target = MountGrammar.normalize(m.target());
      targets.add(target);
      out.add(
          switch (m.type()) {
            case "volume" ->
                Mount.volume(
                    m.source() == null || m.source().isEmpty() ? anonymousName() : m.source(),
                    target,
                    m.isReadOnly());
            default -> Mount.tmpfs(target, m.tmpfsSizeBytes(), m.tmpfsMode());
          });
    }
    for (String v : image.volumes()) {
      String target;
      try {
        target = MountGrammar.normalize(v);
      } catch (IllegalArgumentException e) {
        continue; // an image's odd VOLUME is not the user's fault: Docker skips what it cannot use
      }
      if (target.startsWith("/") && !target.equals("/") && targets.add(target)) {
        out.add(Mount.volume(anonymousName(), target, false));
      }
    }
    lock.lock();
    try {
      conflicts(null, out);
    } finally {
      lock.unlock();
    }
    return List.copyOf(out);
  }

  /**
   * Creates the volumes a new VM's mounts name that do not exist yet (a named one on first use, as
   * Docker does; the anonymous ones); on failure those created here are removed again.
   */
  public void provision(List<Mount> mounts) {
    lock.lock();
    List<String> made = new ArrayList<>();
    try {
      for (Mount m : mounts) {
        if (m.type().equals("volume") && store.get(m.source()).isEmpty()) {
          make(m.source(), defaultSize, null, isAnonymousName(m.source()));
          made.add(m.source());
        }
      }
    } catch (RuntimeException e) {
      made.forEach(this::deleteQuietly);
      throw e;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Claims a VM's volumes for one boot and says what it mounts; 409 when a read-write volume is in
   * another running VM (or a read-only one in a VM that has it read-write). Call at every boot;
   * {@link #release} at its exit.
   */
  public Storage claim(String vmId, String vmName, List<Mount> mounts, boolean readOnlyRoot) {
    List<Storage.Drive> drives = new ArrayList<>();
    List<Storage.Tmpfs> tmpfs = new ArrayList<>();
    lock.lock();
    try {
      conflicts(vmId, mounts);
      for (Mount m : mounts) {
        if (m.type().equals("volume")) {
          if (store.get(m.source()).isEmpty()) {
            throw ApiException.conflict(
                "volume "
                    + m.source()
                    + " of VM "
                    + vmName
                    + " is gone (removed with `inferno volume rm -f`?): create it again with"
                    + " `inferno volume create "
                    + m.source()
                    + "`");
          }
          drives.add(new Storage.Drive(m.source(), file(m.source()), m.target(), m.isReadOnly()));
        } else {
          tmpfs.add(new Storage.Tmpfs(m.target(), m.tmpfsSizeBytes(), m.tmpfsMode()));
        }
      }
      for (Mount m : mounts) {
        if (m.type().equals("volume")) {
          claims
              .computeIfAbsent(m.source(), k -> new LinkedHashMap<>())
              .put(vmId, new Claim(vmName, !m.isReadOnly()));
          publish(
              "volume-mounted",
              m.source(),
              vmName,
              Map.of("vm", vmId, "destination", m.target(), "rw", String.valueOf(!m.isReadOnly())));
        }
      }
    } finally {
      lock.unlock();
    }
    return new Storage(drives, tmpfs, readOnlyRoot);
  }

  /** The VM's boot is over: its volumes are free for others. */
  public void release(String vmId) {
    lock.lock();
    try {
      for (var e : claims.entrySet()) {
        Claim c = e.getValue().remove(vmId);
        if (c != null) {
          publish("volume-unmounted", e.getKey(), c.vmName(), Map.of("vm", vmId));
        }
      }
      claims.values().removeIf(Map::isEmpty);
    } finally {
      lock.unlock();
    }
  }

  /**
   * After the daemon restarted and reconciled: the VMs still up (running or paused) hold their
   * volumes again.
   */
  public void restoreClaims() {
    for (VmRecord r : vms.all()) {
      if (r.state() == VmState.RUNNING || r.state() == VmState.PAUSED) {
        List<Mount> mounts = r.request().mounts() == null ? List.of() : r.request().mounts();
        lock.lock();
        try {
          for (Mount m : mounts) {
            if ("volume".equals(m.type())) {
              claims
                  .computeIfAbsent(m.source(), k -> new LinkedHashMap<>())
                  .put(r.id(), new Claim(r.name(), !m.isReadOnly()));
            }
          }
        } finally {
          lock.unlock();
        }
      }
    }
  }

  /**
   * A VM was removed (its record is gone): with {@code anonymous} (rm -v, or an --rm VM) its
   * anonymous volumes go too, unless another VM mounts them; named volumes always stay.
   */
  public void removed(VmRecord r, boolean anonymous) {
    release(r.id());
    if (!anonymous || r.request().mounts() == null) {
      return;
    }
    lock.lock();
    try {
      Map<String, List<String>> users = users();
      for (Mount m : r.request().mounts()) {
        if ("volume".equals(m.type()) && !users.containsKey(m.source())) {
          store
              .get(m.source())
              .filter(VolumeRecord::anonymous)
              .ifPresent(v -> deleteQuietly(v.name()));
        }
      }
    } finally {
      lock.unlock();
    }
  }

  // ---- helpers

  /** 409 when a mount conflicts with another VM's claim (vmId: the VM asking, null if new). */
  private void conflicts(String vmId, List<Mount> mounts) {
    for (Mount m : mounts) {
      if (!m.type().equals("volume")) {
        continue;
      }
      for (var e : claims.getOrDefault(m.source(), Map.of()).entrySet()) {
        if (e.getKey().equals(vmId)) {
          continue;
        }
        Claim c = e.getValue();
        if (c.readWrite()) {
          throw ApiException.conflict(
              "volume "
                  + m.source()
                  + " is in use read-write by VM "
                  + c.vmName()
                  + ": stop that VM first, or mount another volume");
        }
        if (!m.isReadOnly()) {
          throw ApiException.conflict(
              "volume "
                  + m.source()
                  + " is mounted read-only by VM "
                  + c.vmName()
                  + ": a read-write mount needs it alone (stop that VM, or add :ro)");
        }
      }
    }
  }

  private VolumeRecord make(String name, long size, Map<String, String> labels, boolean anon) {
    String n = name == null ? anonymousName() : name;
    VolumeRecord v = new VolumeRecord(n, size, Instant.now(), labels, anon);
    Path f = file(n);
    try {
      Files.createDirectories(f.getParent());
      WritableDisk.create(f, size);
    } catch (IOException | RuntimeException e) {
      deleteFiles(n);
      throw ApiException.internal(
          "cannot create volume " + n + " in " + f.getParent() + ": " + e.getMessage(), e);
    }
    if (!store.insert(v)) {
      deleteFiles(n);
      throw ApiException.conflict("volume " + n + " already exists");
    }
    publish("volume-created", n, null, Map.of());
    return v;
  }

  private void delete(String name) {
    boolean deleted = store.delete(name);
    deleteFiles(name);
    if (deleted) {
      publish("volume-removed", name, null, Map.of());
    }
  }

  /**
   * One volume event: the volume's name as its id, the VM's name (mounted, unmounted) or null, the
   * driver and {@code more} as attributes.
   */
  private void publish(String type, String volume, String vmName, Map<String, String> more) {
    Map<String, String> attrs = new LinkedHashMap<>(DRIVER);
    attrs.putAll(more);
    events.publish(type, volume, vmName, null, attrs);
  }

  private void deleteQuietly(String name) {
    try {
      delete(name);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "cannot remove volume " + name, e);
    }
  }

  private void deleteFiles(String name) {
    Path f = file(name);
    try {
      Files.deleteIfExists(f);
      Files.deleteIfExists(f.getParent());
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot delete " + f.getParent(), e);
    }
  }

  /** A volume's image file. */
  public Path file(String name) {
    return dir.resolve(name).resolve("volume.ext4");
  }

  private VolumeRecord find(String name) {
    return store.get(name).orElseThrow(() -> notFound(name));
  }

  private static ApiException notFound(String name) {
    return ApiException.notFound(
        "no such volume: " + name + " (list them with `inferno volume ls`)");
  }

  /** volume → the ids of the VMs whose mounts name it. */
  private Map<String, List<String>> users() {
    Map<String, List<String>> out = new HashMap<>();
    for (VmRecord r : vms.all()) {
      if (r.request() == null || r.request().mounts() == null) {
        continue;
      }
      for (Mount m : r.request().mounts()) {
        if ("volume".equals(m.type()) && m.source() != null) {
          out.computeIfAbsent(m.source(), k -> new ArrayList<>()).add(r.id());
        }
      }
    }
    return out;
  }

  private List<String> names(List<String> ids) {
    return ids.stream().map(id -> vms.get(id).map(VmRecord::name).orElse(id)).toList();
  }

  private Volume view(VolumeRecord v, Map<String, List<String>> users, boolean usage) {
    Path f = file(v.name());
    return new Volume(
        v.name(),
        "local",
        v.sizeBytes(),
        usage ? allocated(f) : null,
        v.createdAt(),
        v.labels(),
        v.anonymous(),
        users.getOrDefault(v.name(), List.of()),
        f.toString());
  }

  /** What the sparse file takes on disk (du's figure), or null when it cannot be told. */
  static Long allocated(Path f) {
    try {
      OptionalLong n = FileNodes.allocatedBytes(f);
      return n.isPresent() ? n.getAsLong() : null;
    } catch (SyscallException e) {
      LOG.log(Level.FINE, "cannot stat " + f, e);
      return null;
    }
  }

  /** An anonymous volume's name: 64 random hex digits, as Docker's. */
  static String anonymousName() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  static boolean isAnonymousName(String name) {
    return name.length() == 64 && name.chars().allMatch(c -> Character.digit(c, 16) >= 0);
  }

  /** Closes the store's connection (the daemon's close). */
  @Override
  public void close() throws java.sql.SQLException {
    store.close();
  }
}
