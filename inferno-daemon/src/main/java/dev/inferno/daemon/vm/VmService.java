package dev.inferno.daemon.vm;

import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.backend.GuestNic;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.backend.LaunchSpec;
import dev.inferno.daemon.backend.LogQuery;
import dev.inferno.daemon.backend.Storage;
import dev.inferno.daemon.backend.VmBackend;
import dev.inferno.daemon.backend.VmBackend.FrameSink;
import dev.inferno.daemon.backend.VmHandle;
import dev.inferno.daemon.health.HealthRules;
import dev.inferno.daemon.network.AddressPool;
import dev.inferno.daemon.network.HostResolvers;
import dev.inferno.daemon.network.Ipv4Cidr;
import dev.inferno.daemon.network.PortInUseException;
import dev.inferno.daemon.network.PortSpec;
import dev.inferno.daemon.network.VmNetworks;
import dev.inferno.daemon.store.RestartState;
import dev.inferno.daemon.store.VmNetwork;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.store.VmStore;
import dev.inferno.daemon.volume.VolumeService;
import dev.inferno.image.ref.ImageRef;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.protocol.ConsoleSize;
import dev.inferno.kiln.run.DockerRun;
import dev.inferno.kiln.run.ImageConfig;
import dev.inferno.kiln.run.MergedConfig;
import dev.inferno.kiln.run.Overrides;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.model.Event;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.Mount;
import dev.inferno.model.RunRequest;
import dev.inferno.model.UpdateRequest;
import dev.inferno.model.VmState;
import dev.inferno.sys.FileNodes;
import dev.inferno.sys.SyscallException;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * The VM life cycle: create and start from a request, watch for exit, stop, kill, remove, wait,
 * logs, and reconcile with the backend when the daemon starts. The database is the record of truth
 * for what exists; the backend for what runs.
 */
public final class VmService {
  private static final Logger LOG = Logger.getLogger(VmService.class.getName());
  private static final Set<String> VMMS = Set.of("auto", "firecracker", "qemu");
  private static final Set<String> PULL = Set.of("missing", "always", "never");
  private static final Pattern PLATFORM = Pattern.compile("[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?");

  private final VmStore store;
  private final Resolver resolver;
  private final ImageBackend images;
  private final VmBackend backend;
  private final EventBus events;
  private final Defaults defaults;
  private final VmNetworks networks;
  private final Map<String, VmHandle> live = new ConcurrentHashMap<>();

  /** Completed once a VM's exit is recorded; present from creation until removal. */
  private final Map<String, CompletableFuture<ExitRecord>> exits = new ConcurrentHashMap<>();

  /** Told the id of every VM removed (its execs are forgotten). */
  private final List<Consumer<String>> removeListeners = new CopyOnWriteArrayList<>();

  /** Told of every VM the daemon watches run: each boot, and each VM re-adopted (observe). */
  private final List<BiConsumer<String, VmHandle>> bootListeners = new CopyOnWriteArrayList<>();

  /** Attached readers per VM: an --rm VM is removed only after they finish reading. */
  private final Map<String, Integer> pins = new ConcurrentHashMap<>();

  /** Volumes and tmpfs mounts (the volume package); null: mounts are refused. */
  private volatile VolumeService volumes;

  /** One lock per VM: its record's transitions (boot, exit, stop, pause, restart) in order. */
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  /** VMs whose current run a stop, kill or rm asked to stay down (moby's ExitOnNext). */
  private final Set<String> cancelled = ConcurrentHashMap.newKeySet();

  private final RestartManager restarts = new RestartManager(this::restartDue);

  public VmService(
      VmStore store,
      ImageBackend images,
      VmBackend backend,
      EventBus events,
      Defaults defaults,
      VmNetworks networks) {
    this.store = store;
    this.networks = networks;
    this.resolver = new Resolver(store);
    this.images = images;
    this.backend = backend;
    this.events = events;
    this.defaults = defaults;
  }

  public VmStore store() {
    return store;
  }

  public VmBackend backend() {
    return backend;
  }

  public EventBus events() {
    return events;
  }

  public VmNetworks networks() {
    return networks;
  }

  /** Turns on volumes: VMs' mounts are planned, claimed at each boot and released by it. */
  public void useVolumes(VolumeService v) {
    volumes = v;
  }

  public VolumeService volumes() {
    return volumes;
  }

  /** A new VM's mounts (request + image VOLUMEs), checked before anything is created. */
  private List<Mount> planMounts(RunRequest req, ImageInfo image) {
    VolumeService v = volumes;
    if (v == null) {
      if (req.mounts() != null && !req.mounts().isEmpty()) {
        throw ApiException.badRequest("this daemon has no volume support: run without -v");
      }
      return List.of();
    }
    return v.plan(req, image);
  }

  /**
   * Claims the VM's volumes for a boot (409 when one is taken) and puts them in its spec; every
   * boot of the VM goes through here, {@link #onExit} releases them.
   */
  public LaunchSpec withStorage(VmRecord r, LaunchSpec spec) {
    VolumeService v = volumes;
    List<Mount> mounts = r.request().mounts() == null ? List.of() : r.request().mounts();
    boolean readOnly = Boolean.TRUE.equals(r.request().readOnly());
    if (v == null) {
      return readOnly ? spec.withStorage(new Storage(List.of(), List.of(), true)) : spec;
    }
    return spec.withStorage(v.claim(r.id(), r.name(), mounts, readOnly));
  }

  /**
   * Brings the database in line with the backend after a (re)start: running VMs are watched again
   * when their VMM still runs, else marked exited with the backend's record or a reason; VMs that
   * never started are marked exited; exited --rm VMs are removed.
   *
   * @return one line per VM whose state changed, for the daemon's log
   */
  public List<String> reconcile() {
    List<String> report = new ArrayList<>();
    for (VmRecord r : store.all()) {
      switch (r.state()) {
        case RUNNING, PAUSED -> {
          VmBackend.Adoption a = backend.adopt(r.id());
          switch (a) {
            case VmBackend.Adoption.Adopted(VmHandle vm) -> {
              exits.put(r.id(), new CompletableFuture<>());
              watch(r.id(), vm);
              report.add("re-adopted running VM " + r.name());
            }
            case VmBackend.Adoption.Exited(ExitRecord e) -> {
              exits.put(r.id(), CompletableFuture.completedFuture(e));
              exitedWhileDown(r, e, report);
              report.add("VM " + r.name() + " exited while the daemon was down");
            }
            case VmBackend.Adoption.Vanished(String why) -> {
              ExitRecord e =
                  new ExitRecord(
                      null,
                      null,
                      false,
                      "the VM was gone when the daemon restarted: " + why,
                      Instant.now());
              exits.put(r.id(), CompletableFuture.completedFuture(e));
              exitedWhileDown(r, e, report);
              report.add("VM " + r.name() + " vanished: " + why);
            }
          }
        }
        // created without start (inferno create): it stays so until started
        case CREATED -> {}
        case RESTARTING -> {
          exits.put(r.id(), CompletableFuture.completedFuture(r.exit()));
          restarts.schedule(r);
          report.add("VM " + r.name() + " restarts as its policy says");
        }
        case EXITED -> {
          exits.put(r.id(), CompletableFuture.completedFuture(r.exit()));
          if (r.autoRemove()) {
            removeRecord(r);
            report.add("removed --rm VM " + r.name());
          } else if (r.startedAt() != null
              && RestartManager.policy(r)
                  .atDaemonStart(
                      r.exit() == null || r.exit().code() == null ? -1 : r.exit().code(),
                      r.restart().stoppedByHand(),
                      r.restart().count())) {
            // moby's restore: always (even stopped by hand), unless-stopped if not
            VmRecord due =
                r.restarting(
                    r.exit(),
                    new RestartState(
                        r.restart().count(),
                        r.restart().stoppedByHand(),
                        Instant.now(),
                        r.restart().delayMillis()));
            store.update(due);
            restarts.schedule(due);
            report.add("VM " + r.name() + " comes back (restart policy " + policy(r) + ")");
          }
        }
      }
    }
    return report;
  }

  private static RestartPolicy policy(VmRecord r) {
    return RestartManager.policy(r);
  }

  /** A VM that ended while the daemon was down: its exit, and its restart policy applied. */
  private void exitedWhileDown(VmRecord r, ExitRecord e, List<String> report) {
    VmRecord after = RestartManager.afterExit(r, e, false);
    store.update(after);
    if (after.state() == VmState.RESTARTING) {
      restarts.schedule(after);
      report.add("VM " + r.name() + " restarts as its policy says");
    }
  }

  /**
   * After {@link #reconcile}: the host's network in line with the database (VMs still running keep
   * their TAP and published ports; what belonged to VMs that are gone is removed).
   */
  public List<String> restoreNetworks() throws IOException {
    Set<String> all = new HashSet<>();
    Set<String> running = new HashSet<>();
    for (VmRecord r : store.all()) {
      all.add(r.id());
      if (r.state().live() && live.containsKey(r.id())) {
        running.add(r.id());
      }
    }
    List<String> report = networks.restore(all, running);
    restarts.ready(); // the restarts reconcile scheduled may run from here on
    return report;
  }

  /** Ends the pending restarts' timers (the records keep them for the next daemon start). */
  public void close() {
    restarts.shutdown();
  }

  /** What {@link #create} returns: the new record (running unless start failed or not asked). */
  public record Launched(VmRecord vm, List<String> warnings) {}

  /**
   * Validates the request, finds (or pulls) the image, records the VM and starts it.
   *
   * @param pin keep the VM (even with autoRemove) until {@link #unpin} — for an attached client
   */
  public Launched create(RunRequest req, boolean pin) {
    return create(req, pin, true);
  }

  /**
   * As {@link #create(RunRequest, boolean)}; without {@code start} the VM is only recorded (state
   * created, {@code inferno create}) and {@link #start} boots it.
   */
  public Launched create(RunRequest req, boolean pin, boolean start) {
    validate(req);
    NetworkOptions net = NetworkOptions.of(req);
    String pull = req.pull() == null ? "missing" : req.pull();
    ImageInfo image = image(req.image(), req.platform(), pull);
    List<Mount> mounts = planMounts(req, image);
    List<PortSpec> publish = net.published(image);
    List<String> warnings = new ArrayList<>();
    HostResolvers.Resolvers resolvers = resolvers(net, warnings);
    List<String> dns = net.dns() != null ? net.dns() : resolvers.nameservers();
    List<String> dnsSearch = net.dnsSearch() != null ? net.dnsSearch() : resolvers.search();

    // Docker's merge of the image's config and the request (kiln's DockerRun owns the rules)
    MergedConfig run;
    try {
      run =
          DockerRun.merge(
              new ImageConfig(
                  image.entrypoint(),
                  image.cmd(),
                  image.env(),
                  image.workdir(),
                  image.user(),
                  image.stopSignal()),
              new Overrides(
                  req.entrypoint(),
                  req.cmd(),
                  req.env(),
                  req.workdir(),
                  req.user(),
                  req.stopSignal(),
                  Boolean.TRUE.equals(req.tty())));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("image " + image.reference() + ": " + e.getMessage());
    }
    List<String> argv = run.argv();
    int cpus = req.cpus() == null ? defaults.cpus() : vcpus(req.cpus(), warnings);
    long memory = req.memoryBytes() == null ? defaults.memoryBytes() : req.memoryBytes();
    String stopSignal = SignalNames.canonical(run.stopSignal());
    int stopTimeout =
        req.stopTimeoutSeconds() == null ? defaults.stopTimeoutSeconds() : req.stopTimeoutSeconds();
    String vmm = req.vmm() == null ? defaults.vmm() : req.vmm();
    String workdir = run.workdir();
    String user = run.user();
    boolean autoRemove = Boolean.TRUE.equals(req.autoRemove());
    List<String> envList = run.env();
    boolean tty = Boolean.TRUE.equals(req.tty());
    boolean interactive = Boolean.TRUE.equals(req.interactive());

    // the record keeps the effective request, so inspect shows what the VM really got
    RunRequest effective =
        new RunRequest(
            image.reference(),
            null,
            envList,
            run.entrypoint(),
            run.cmd(),
            workdir,
            user,
            (double) cpus,
            memory,
            stopSignal,
            stopTimeout,
            vmm,
            req.platform(),
            pull,
            autoRemove,
            req.ports(),
            req.publishAll(),
            net.network(),
            req.hostname(),
            dns,
            dnsSearch,
            req.extraHosts(),
            tty,
            interactive,
            req.consoleSize(),
            req.restart(),
            mounts,
            req.readOnly(),
            HealthRules.merge(image.healthcheck(), req.healthcheck()), // observe: Docker's merge
            req.labels()); // docker API: Config.Labels
    VmRecord rec = insert(req.name(), image, argv, effective, autoRemove);
    if (volumes != null) {
      try {
        volumes.provision(mounts);
      } catch (RuntimeException e) {
        store.delete(rec.id());
        throw e;
      }
    }
    if (pin) {
      pin(rec.id());
    }
    events.publish("created", rec.id(), rec.name(), null);
    if (!start) {
      return new Launched(rec, warnings);
    }
    ReentrantLock l = lock(rec.id());
    l.lock();
    try {
      return new Launched(boot(rec, image, true), warnings);
    } catch (RuntimeException e) {
      if (volumes != null && store.get(rec.id()).isEmpty()) {
        volumes.removed(rec, true); // the record is gone: so are the volumes made for it
      }
      if (pin) {
        unpin(rec.id());
      }
      if (autoRemove) {
        removeQuietly(rec.id());
      }
      throw e;
    } finally {
      l.unlock();
    }
  }

  /** Whole vCPUs for {@code cpus} (rounded up: a VM has no fraction of one), and why if rounded. */
  private static int vcpus(double cpus, List<String> warnings) {
    int whole = (int) Math.ceil(cpus);
    if (cpus != whole) {
      warnings.add("VMs get whole vCPUs: --cpus " + cpus + " rounded up to " + whole);
    }
    return whole;
  }

  /** What {@link #update} returns: the record as it is now, and warnings for the user. */
  public record Updated(VmRecord vm, List<String> warnings) {}

  /**
   * Docker's update: changes what the VM is recorded with. The restart policy applies from the VM's
   * next exit (a restart already pending still happens, as in dockerd); memory and vCPUs from its
   * next boot — a running microVM cannot be resized (no memory or vCPU hotplug on Firecracker), so
   * for a running or paused VM they are recorded and a warning says so. A policy other than {@code
   * no} is refused for an {@code --rm} VM (409), as dockerd does. Nothing given changes nothing.
   */
  public Updated update(String ref, UpdateRequest u) {
    RestartPolicy policy = null;
    if (u.restart() != null) {
      try {
        policy = RestartPolicy.parse(u.restart());
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest(e.getMessage());
      }
    }
    if (u.cpus() != null && !(u.cpus() > 0)) {
      throw ApiException.badRequest("invalid cpus " + u.cpus() + ": must be above 0");
    }
    VmRecord r = resolve(ref);
    ReentrantLock l = lock(r.id());
    l.lock();
    try {
      r = store.get(r.id()).orElseThrow(() -> ApiException.notFound("no such VM: " + ref));
      if (policy != null && !policy.none() && r.autoRemove()) {
        throw ApiException.conflict(
            "VM "
                + r.name()
                + " was run with --rm: its restart policy cannot be updated to "
                + policy
                + " (a VM removed when it exits cannot be restarted)");
      }
      List<String> warnings = new ArrayList<>();
      RunRequest q = r.request();
      RunRequest.Builder b = q.toBuilder();
      if (policy != null) {
        b.restart(policy.toString());
      }
      boolean resized = u.cpus() != null || u.memoryBytes() != null;
      if (resized) {
        int cpus = u.cpus() != null ? vcpus(u.cpus(), warnings) : (int) Math.ceil(q.cpus());
        long memory = u.memoryBytes() != null ? u.memoryBytes() : q.memoryBytes();
        // kiln owns the limits, as at create
        VmSpec.sizeProblem(cpus, memory, VmSpec.hostMemoryBytes())
            .ifPresent(p -> {
              throw ApiException.badRequest(p);
            });
        b.cpus((double) cpus).memoryBytes(memory);
        if (r.state().live()) {
          warnings.add(
              "VM "
                  + r.name()
                  + " is running: its new size ("
                  + cpus
                  + (cpus == 1 ? " vCPU, " : " vCPUs, ")
                  + (memory >> 20)
                  + " MiB) takes effect when it boots next (a restart, or a stop and start): a running"
                  + " microVM cannot be resized");
        }
      }
      VmRecord after = r.withRequest(b.build());
      store.update(after);
      events.publish("updated", r.id(), r.name(), null);
      return new Updated(after, warnings);
    } finally {
      l.unlock();
    }
  }

  private ReentrantLock lock(String id) {
    return locks.computeIfAbsent(id, k -> new ReentrantLock());
  }

  /**
   * What the backend is handed to boot the VM, from its record alone (the effective request), so
   * that every boot of it — the first, a start, a restart — gets the same.
   */
  private static LaunchSpec launchSpec(VmRecord rec, ImageInfo image) {
    RunRequest q = rec.request();
    NetworkOptions net = NetworkOptions.of(q);
    return new LaunchSpec(
        rec.id(),
        rec.name(),
        image,
        rec.command(),
        q.env() == null ? List.of() : q.env(),
        q.workdir(),
        q.user(),
        (int) Math.ceil(q.cpus()),
        q.memoryBytes(),
        q.stopSignal(),
        q.stopTimeoutSeconds(),
        q.vmm(),
        null,
        net.hostname() != null ? net.hostname() : VmIds.shortId(rec.id()),
        net.attached() && q.dns() != null ? q.dns() : List.of(),
        net.attached() && q.dnsSearch() != null ? q.dnsSearch() : List.of(),
        net.hosts(),
        Boolean.TRUE.equals(q.tty()),
        Boolean.TRUE.equals(q.interactive()),
        q.consoleSize());
  }

  /**
   * Boots the VM from its record (under its lock): network attached anew, the backend's first start
   * or its start again on the same state dir (writable disk and logs kept), the record running. A
   * failure records the exit and throws.
   *
   * @param created the record was inserted by this request: a network failure deletes it (nothing
   *     left behind); otherwise the VM stays as it was
   */
  private VmRecord boot(VmRecord rec, ImageInfo image, boolean created) {
    LaunchSpec spec = launchSpec(rec, image);
    NetworkOptions net = NetworkOptions.of(rec.request());
    if (net.attached()) {
      spec = spec.withNic(attach(rec, spec, net.published(image), created));
    }
    CompletableFuture<ExitRecord> exit = new CompletableFuture<>();
    exits.put(rec.id(), exit);
    cancelled.remove(rec.id());
    boolean again = rec.startedAt() != null;
    VmHandle vm;
    try {
      LaunchSpec withVolumes = withStorage(rec, spec); // claimed for this boot: 409 when taken
      vm = again ? backend.startAgain(withVolumes) : backend.start(withVolumes);
    } catch (RuntimeException e) {
      networks.release(rec.id());
      releaseVolumes(rec.id());
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      ExitRecord failed = new ExitRecord(null, null, false, "start failed: " + msg, Instant.now());
      store.update(rec.exited(failed).settled());
      exit.complete(failed);
      events.publish("exited", rec.id(), rec.name(), failed);
      throw e instanceof BackendException || e instanceof ApiException
          ? e
          : ApiException.internal("cannot start VM " + rec.name() + ": " + msg, e);
    }
    VmRecord running =
        rec.withRestart(rec.restart().settled()).started(vm.startedAt(), vm.pid(), vm.vmm());
    store.update(running);
    events.publish("started", rec.id(), rec.name(), null);
    watch(rec.id(), vm);
    return running;
  }

  /** The image a VM was created from, by its manifest digest (its tag may have moved since). */
  private ImageInfo imageOf(VmRecord r) {
    var byRef = images.find(r.image());
    if (byRef.isPresent()
        && (r.imageDigest() == null || r.imageDigest().equals(byRef.get().manifestDigest()))) {
      return byRef.get();
    }
    for (ImageInfo i : images.list()) {
      if (Objects.equals(i.manifestDigest(), r.imageDigest())) {
        return i;
      }
    }
    throw ApiException.conflict(
        "the image VM "
            + r.name()
            + " was created from ("
            + r.image()
            + ", "
            + r.imageDigest()
            + ") is no longer stored: pull it again, or run a new VM");
  }

  /** The host's resolvers, unless the request names its own; why they may be short. */
  private static HostResolvers.Resolvers resolvers(NetworkOptions net, List<String> warnings) {
    if (!net.attached() || (net.dns() != null && net.dnsSearch() != null)) {
      return new HostResolvers.Resolvers(List.of(), List.of(), List.of());
    }
    try {
      HostResolvers.Resolvers r = HostResolvers.read();
      if (net.dns() == null) {
        warnings.addAll(r.warnings());
      }
      return r;
    } catch (IOException e) {
      warnings.add("cannot read the host's resolv.conf (" + e.getMessage() + "): use --dns");
      return new HostResolvers.Resolvers(List.of(), List.of(), List.of());
    }
  }

  /**
   * The VM's network: address, TAP, published ports. When it cannot be had (a port in use, the pool
   * exhausted, the host refusing), a record just inserted ({@code created}) goes too: nothing is
   * left.
   */
  private GuestNic attach(VmRecord rec, LaunchSpec spec, List<PortSpec> publish, boolean created) {
    VmNetwork n;
    GuestNic.Owner owner;
    try {
      owner = backend.tapOwner(spec);
    } catch (RuntimeException e) {
      if (created) {
        forget(rec);
      }
      throw e;
    }
    try {
      n = networks.attach(rec.id(), publish, owner.uid(), owner.gid());
    } catch (IOException | RuntimeException e) {
      backend.releaseTapOwner(spec);
      if (created) {
        forget(rec);
      }
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      throw switch (e) {
        case PortInUseException p -> ApiException.conflict(msg);
        case AddressPool.PoolExhaustedException p -> ApiException.conflict(msg);
        case BindException b -> ApiException.badRequest(msg);
        default ->
            ApiException.internal("cannot set up the network of VM " + rec.name() + ": " + msg, e);
      };
    }
    Ipv4Cidr slot = Ipv4Cidr.parse(n.subnet());
    return new GuestNic(
        n.device(),
        n.mac(),
        Ipv4Cidr.formatAddress(AddressPool.guestAddress(slot)) + "/" + slot.prefix(),
        Ipv4Cidr.formatAddress(AddressPool.hostAddress(slot)),
        n.mtu());
  }

  /** A record inserted by a create that then failed: gone without a trace. */
  private void forget(VmRecord rec) {
    String id = rec.id();
    if (store.delete(id)) {
      events.publish("removed", id, rec.name(), null);
    }
    exits.remove(id);
    pins.remove(id);
    locks.remove(id);
  }

  private VmRecord insert(
      String name, ImageInfo image, List<String> argv, RunRequest effective, boolean autoRemove) {
    for (int attempt = 0; attempt < 20; attempt++) {
      String n = name != null ? name : VmNames.generate(attempt);
      VmRecord rec =
          new VmRecord(
              VmIds.random(),
              n,
              image.reference(),
              image.manifestDigest(),
              argv,
              effective.withName(n),
              VmState.CREATED,
              Instant.now(),
              null,
              null,
              null,
              null,
              null,
              autoRemove);
      if (store.insert(rec)) {
        return rec;
      }
      if (name != null) {
        String owner = store.byName(name).map(v -> VmIds.shortId(v.id())).orElse("another VM");
        throw ApiException.conflict(
            "the name \""
                + name
                + "\" is already in use by VM "
                + owner
                + ": remove that VM or choose another name");
      }
    }
    throw ApiException.internal("could not generate a free VM name", null);
  }

  /** The image to run; the image side's failures pass through (the API maps them). */
  private ImageInfo image(String ref, String platform, String pull) {
    if (pull.equals("always")) {
      return images.pull(ref, platform, ImageBackend.ProgressListener.NONE);
    }
    var found = images.find(ref);
    if (found.isPresent()) {
      return found.get();
    }
    if (pull.equals("never")) {
      throw ApiException.notFound(
          "no such image: " + ref + " (pull it first with: inferno pull " + ref + ")");
    }
    ImageInfo img = images.pull(ref, platform, ImageBackend.ProgressListener.NONE);
    events.publish("pulled", img.reference(), null, null);
    return img;
  }

  private void validate(RunRequest r) {
    if (r.image() == null || r.image().isBlank()) {
      throw ApiException.badRequest("no image given: image is required");
    }
    try {
      ImageRef.parse(r.image());
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    if (r.name() != null) {
      String problem = VmNames.problem(r.name());
      if (problem != null) {
        throw ApiException.badRequest(problem);
      }
    }
    if (r.env() != null) {
      for (String kv : r.env()) {
        if (kv == null || kv.indexOf('=') <= 0) {
          throw ApiException.badRequest(
              "invalid environment entry \"" + kv + "\": expected KEY=VALUE");
        }
      }
    }
    if (r.cpus() != null && !(r.cpus() > 0)) {
      throw ApiException.badRequest("invalid cpus " + r.cpus() + ": must be above 0");
    }
    // kiln owns the limits (the VMM's vCPUs, the host's memory): asked before anything is recorded
    long cpus = r.cpus() == null ? defaults.cpus() : (long) Math.ceil(r.cpus());
    long memory = r.memoryBytes() == null ? defaults.memoryBytes() : r.memoryBytes();
    VmSpec.sizeProblem(cpus, memory, VmSpec.hostMemoryBytes())
        .ifPresent(p -> {
          throw ApiException.badRequest(p);
        });
    if (r.stopSignal() != null) {
      signal(r.stopSignal());
    }
    if (r.stopTimeoutSeconds() != null
        && (r.stopTimeoutSeconds() < 0 || r.stopTimeoutSeconds() > 3600)) {
      throw ApiException.badRequest(
          "invalid stop timeout " + r.stopTimeoutSeconds() + ": 0 to 3600 seconds");
    }
    consoleSize(r.consoleSize());
    try {
      HealthRules.validate(r.healthcheck()); // observe
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    if (r.vmm() != null && !VMMS.contains(r.vmm())) {
      throw ApiException.badRequest("invalid vmm \"" + r.vmm() + "\": auto, firecracker or qemu");
    }
    if (r.pull() != null && !PULL.contains(r.pull())) {
      throw ApiException.badRequest(
          "invalid pull policy \"" + r.pull() + "\": missing, always or never");
    }
    RestartPolicy restart;
    try {
      restart = RestartPolicy.parse(r.restart());
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    if (!restart.none() && Boolean.TRUE.equals(r.autoRemove())) {
      throw ApiException.badRequest(
          "conflicting options: --restart "
              + restart
              + " and --rm (a VM removed when it exits cannot be restarted): drop one of them");
    }
    if (r.platform() != null && !PLATFORM.matcher(r.platform()).matches()) {
      throw ApiException.badRequest(
          "invalid platform \""
              + r.platform()
              + "\": expected os/arch[/variant], e.g. linux/amd64");
    }
  }

  /** {@code [rows, cols]} as the guest takes it, or null; kiln's ConsoleSize owns the limits. */
  public static int[] consoleSize(List<Integer> rc) {
    if (rc == null) {
      return null;
    }
    if (rc.size() != 2 || rc.get(0) == null || rc.get(1) == null) {
      throw ApiException.badRequest("invalid consoleSize " + rc + ": expected [rows, cols]");
    }
    int[] size = {rc.get(0), rc.get(1)};
    try {
      ConsoleSize.of(size);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("invalid consoleSize: " + e.getMessage());
    }
    return size;
  }

  private static String signal(String s) {
    try {
      return SignalNames.canonical(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
  }

  private void watch(String id, VmHandle vm) {
    live.put(id, vm);
    bootListeners.forEach(l -> l.accept(id, vm)); // observe: health checks start at every boot
    // the future it returns completes with the same exit: onExit handles it
    var _ =
        vm.exit()
            .whenComplete((e, err) ->
                Thread.ofVirtual()
                    .start(() ->
                        onExit(
                            id,
                            e != null
                                ? e
                                : new ExitRecord(
                                    null, null, false, "lost the VM: " + err, Instant.now()))));
  }

  private void onExit(String id, ExitRecord e) {
    live.remove(id);
    networks.release(id); // Docker frees published ports when a container stops
    releaseVolumes(id);
    ReentrantLock l = lock(id);
    l.lock();
    try {
      var rec = store.get(id);
      if (rec.isEmpty()) {
        return;
      }
      // the restart policy decides: restarting (after the back-off) or exited
      VmRecord after = RestartManager.afterExit(rec.get(), e, cancelled.remove(id));
      store.update(after);
      events.publish("exited", id, rec.get().name(), e);
      CompletableFuture<ExitRecord> f = exits.get(id);
      if (f != null) {
        f.complete(e);
      }
      if (after.state() == VmState.RESTARTING) {
        events.publish("restarting", id, after.name(), null);
        restarts.schedule(after);
      } else if (rec.get().autoRemove() && !pins.containsKey(id)) {
        removeQuietly(id);
      }
    } catch (RuntimeException ex) {
      LOG.log(Level.SEVERE, "cannot record the exit of VM " + id, ex);
    } finally {
      l.unlock();
    }
  }

  private void releaseVolumes(String id) {
    VolumeService v = volumes;
    if (v != null) {
      v.release(id);
    }
  }

  /** A pending restart is due: boots the VM again unless a stop or rm came first. */
  private void restartDue(String id) {
    ReentrantLock l = lock(id);
    l.lock();
    try {
      var rec = store.get(id);
      if (rec.isEmpty() || rec.get().state() != VmState.RESTARTING) {
        return;
      }
      boot(rec.get(), imageOf(rec.get()), false);
    } catch (RuntimeException e) {
      // Docker: a restart that fails leaves the VM exited (boot recorded why)
      store.get(id).ifPresent(r -> store.update(r.settled()));
      LOG.log(Level.WARNING, "cannot restart VM " + id + ": " + e.getMessage());
    } finally {
      l.unlock();
    }
  }

  public VmRecord resolve(String ref) {
    return resolver.resolve(ref);
  }

  /** Every VM, or those ps shows by default: running, paused, restarting (as Docker). */
  public List<VmRecord> list(boolean all) {
    return all
        ? store.all()
        : store.all().stream()
            .filter(r -> r.state().live() || r.state() == VmState.RESTARTING)
            .toList();
  }

  /**
   * Stops a running VM: its stop signal (or {@code signal}), then after the timeout the backend
   * escalates to a kill. Returns once it has exited; a VM that is not running is left as is.
   */
  public VmRecord stop(String ref, String signal, Integer timeoutSeconds)
      throws InterruptedException {
    VmRecord r = resolve(ref);
    String sig = signal != null ? signal(signal) : r.request().stopSignal();
    int t = timeoutSeconds != null ? timeoutSeconds : r.request().stopTimeoutSeconds();
    if (t < 0) {
      throw ApiException.badRequest("invalid timeout " + t + ": must be 0 or more seconds");
    }
    VmHandle vm = stoppedByHand(r, true);
    if (vm == null) {
      return store.get(r.id()).orElse(r);
    }
    vm.stop(sig, t);
    awaitExit(r, t + 30L);
    VmRecord after = store.get(r.id()).orElse(r);
    if (after.exit() != null && "SIGKILL".equals(after.exit().signal()) && !sig.equals("SIGKILL")) {
      events.publish("kill", r.id(), r.name(), after.exit()); // Docker's event when stop escalates
    }
    return after;
  }

  /** Sends a signal (default SIGKILL) to a running VM's process; returns at once. */
  public VmRecord kill(String ref, String signal) {
    VmRecord r = resolve(ref);
    String sig = signal(signal == null ? "SIGKILL" : signal);
    if (r.state() == VmState.RESTARTING) {
      throw ApiException.conflict(
          "VM " + r.name() + " is restarting: wait until it runs, or stop it (inferno stop)");
    }
    // moby: any kill marks it stopped by hand; SIGKILL or its stop signal end restarts of this run
    VmHandle vm = stoppedByHand(r, sig.equals("SIGKILL") || sig.equals(r.request().stopSignal()));
    if (vm == null) {
      throw ApiException.conflict("VM " + r.name() + " is not running");
    }
    vm.kill(sig);
    return r;
  }

  /**
   * Records that the user stopped the VM (restart policies suppressed until it is started again);
   * drops a pending restart (the VM is exited then).
   *
   * @param cancel also keep this run from restarting when it exits
   * @return the VM's handle when it runs, else null
   */
  private VmHandle stoppedByHand(VmRecord ref, boolean cancel) {
    ReentrantLock l = lock(ref.id());
    l.lock();
    try {
      VmRecord r = store.get(ref.id()).orElse(null);
      if (r == null) {
        return null;
      }
      VmHandle vm = live.get(r.id());
      if (r.state() == VmState.RESTARTING) {
        restarts.cancel(r.id());
        store.update(r.withRestart(r.restart().withStoppedByHand(true)).settled());
        return null;
      }
      if (vm != null) {
        store.update(r.withRestart(r.restart().withStoppedByHand(true)));
        if (cancel) {
          cancelled.add(r.id());
        }
      }
      return vm;
    } finally {
      l.unlock();
    }
  }

  /** Removes an exited VM; with force, kills a running one first. */
  public VmRecord remove(String ref, boolean force) throws InterruptedException {
    return remove(ref, force, false);
  }

  /** As {@link #remove(String, boolean)}; with {@code volumes} its anonymous volumes go too. */
  public VmRecord remove(String ref, boolean force, boolean volumes) throws InterruptedException {
    VmRecord r = resolve(ref);
    if (!force && r.state() == VmState.RESTARTING) {
      throw ApiException.conflict(
          "VM " + r.name() + " is restarting: stop it first, or remove it with -f");
    }
    if (!force && live.containsKey(r.id())) {
      throw ApiException.conflict(
          "VM "
              + r.name()
              + " is "
              + (r.state() == VmState.PAUSED ? "paused" : "running")
              + ": stop it first, or remove it with -f");
    }
    VmHandle vm = stoppedByHand(r, true);
    if (vm != null) {
      vm.kill("SIGKILL");
      awaitExit(r, 30);
    }
    removeRecord(store.get(r.id()).orElse(r), volumes);
    return r;
  }

  private void awaitExit(VmRecord r, long seconds) throws InterruptedException {
    CompletableFuture<ExitRecord> f = exits.get(r.id());
    if (f == null) {
      return;
    }
    try {
      f.get(seconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw ApiException.internal(
          "VM " + r.name() + " did not exit within " + seconds + "s of being stopped", e);
    } catch (ExecutionException e) {
      throw ApiException.internal("lost track of VM " + r.name(), e);
    }
  }

  /** Removes the VM; an --rm VM's anonymous volumes go with it, as in Docker. */
  private void removeRecord(VmRecord r) {
    removeRecord(r, r.autoRemove());
  }

  private void removeRecord(VmRecord r, boolean anonymousVolumes) {
    restarts.cancel(r.id());
    networks.release(r.id());
    backend.remove(r.id());
    boolean deleted = store.delete(r.id());
    VolumeService v = volumes;
    if (v != null) {
      // after the record (the VM no longer counts as a user of its volumes), before the event: a
      // client that waits for "removed" finds the anonymous volumes gone too
      v.removed(r, anonymousVolumes || r.autoRemove());
    }
    if (deleted) {
      events.publish("removed", r.id(), r.name(), null);
    }
    exits.remove(r.id());
    cancelled.remove(r.id());
    locks.remove(r.id());
    removeListeners.forEach(l -> l.accept(r.id()));
  }

  /** Calls {@code listener} with the id of every VM removed from now on. */
  public void onRemove(Consumer<String> listener) {
    removeListeners.add(listener);
  }

  /**
   * The interactive side of a running VM.
   *
   * @throws ApiException 409 when it is not running (or has no session channel)
   */
  public GuestExec guest(VmRecord r) {
    VmHandle vm = live.get(r.id());
    if (vm == null) {
      throw ApiException.conflict("VM " + r.name() + " is not running");
    }
    if (store.get(r.id()).map(VmRecord::state).orElse(null) == VmState.PAUSED) {
      throw ApiException.conflict("VM " + r.name() + " is paused: unpause it first");
    }
    return vm.exec()
        .orElseThrow(() ->
            ApiException.conflict(
                "VM "
                    + r.name()
                    + " has no session channel (it was started by an older daemon, or its"
                    + " guest cannot take sessions): run it again"));
  }

  /** The merged config a VM was created with (Docker's exec starts from it). */
  public static MergedConfig merged(VmRecord r) {
    RunRequest q = r.request();
    return new MergedConfig(
        q.entrypoint() == null ? List.of() : q.entrypoint(),
        q.cmd() == null ? List.of() : q.cmd(),
        q.env() == null ? List.of() : q.env(),
        q.workdir() == null ? "/" : q.workdir(),
        q.user(),
        q.stopSignal() == null ? "SIGTERM" : q.stopSignal());
  }

  /** The VM's hostname (its HOSTNAME in execs). */
  public static String hostname(VmRecord r) {
    return r.request().hostname() != null ? r.request().hostname() : VmIds.shortId(r.id());
  }

  private void removeQuietly(String id) {
    try {
      var r = store.get(id);
      if (r.isPresent()) {
        removeRecord(r.get());
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "cannot auto-remove VM " + id, e);
    }
  }

  /** Docker's wait conditions. */
  private static final Set<String> WAIT = Set.of("not-running", "next-exit", "removed");

  /** Blocks until the VM is not running; returns how it ended. */
  public ExitRecord await(String ref) throws InterruptedException {
    return await(ref, null);
  }

  /**
   * Docker's wait: {@code not-running} (default) returns at once for a VM not running (a created
   * one: code 0), else at its exit — a restarting VM counts as running, as in Docker; {@code
   * next-exit} waits for the next exit; {@code removed} for its removal, returning its last exit.
   */
  public ExitRecord await(String ref, String condition) throws InterruptedException {
    return await(ref, condition, () -> {});
  }

  /**
   * As {@link #await(String, String)}; {@code waiting} runs once the wait is registered (an exit
   * from then on is seen): the Docker API answers its headers then, as dockerd does, and the {@code
   * docker run} client starts the container only after it.
   */
  public ExitRecord await(String ref, String condition, Runnable waiting)
      throws InterruptedException {
    String cond = condition == null || condition.isEmpty() ? "not-running" : condition;
    if (!WAIT.contains(cond)) {
      throw ApiException.badRequest(
          "invalid condition \"" + cond + "\": not-running, next-exit or removed");
    }
    VmRecord r = resolve(ref);
    // subscribed before looking: an exit after the look is seen
    try (var sub = events.subscribe(Long.MAX_VALUE)) {
      waiting.run();
      VmRecord now = store.get(r.id()).orElse(null);
      ExitRecord last = now == null ? r.exit() : now.exit();
      if (now == null) {
        return last != null ? last : CREATED_EXIT;
      }
      if (cond.equals("not-running")
          && (now.state() == VmState.CREATED || now.state() == VmState.EXITED)) {
        return last != null ? last : CREATED_EXIT;
      }
      while (true) {
        Event e = sub.next(60_000);
        if (e == null || !r.id().equals(e.id())) {
          continue;
        }
        if (e.type().equals("exited")) {
          if (!cond.equals("removed")) {
            return e.exit();
          }
          last = e.exit();
        } else if (e.type().equals("removed")) {
          return last != null ? last : CREATED_EXIT;
        }
      }
    }
  }

  /** What wait answers for a VM that never ran: Docker's exit code 0. */
  private static final ExitRecord CREATED_EXIT = new ExitRecord(0, null, false, null, null);

  /**
   * Docker's start: boots a created or exited VM (again on its state dir: its writable disk and
   * logs kept). Clears "stopped by hand" and the restart count, as a user's start does in moby.
   *
   * @return the running record, or empty when it already runs (the API's 304)
   */
  public Optional<VmRecord> start(String ref) {
    VmRecord r = resolve(ref);
    ReentrantLock l = lock(r.id());
    l.lock();
    try {
      r = store.get(r.id()).orElseThrow(() -> ApiException.notFound("no such VM: " + ref));
      if (r.state().live() || r.state() == VmState.RESTARTING) {
        return Optional.empty();
      }
      restarts.cancel(r.id());
      return Optional.of(boot(r.withRestart(RestartState.NONE), imageOf(r), false));
    } finally {
      l.unlock();
    }
  }

  /**
   * Docker's restart: stops the VM if it runs (timeout as stop's), then starts it again; an --rm VM
   * is kept through it.
   */
  public VmRecord restart(String ref, Integer timeoutSeconds) throws InterruptedException {
    VmRecord r = resolve(ref);
    pin(r.id());
    try {
      stop(r.id(), null, timeoutSeconds);
      VmRecord up = start(r.id()).orElseGet(() -> store.get(r.id()).orElse(r));
      events.publish("restarted", r.id(), up.name(), null);
      return up;
    } finally {
      unpin(r.id());
    }
  }

  /** Freezes a running VM's vCPUs (Docker's pause). */
  public VmRecord pause(String ref) {
    return pause(ref, true);
  }

  /** Lets a paused VM run on. */
  public VmRecord unpause(String ref) {
    return pause(ref, false);
  }

  private VmRecord pause(String ref, boolean pause) {
    VmRecord r = resolve(ref);
    ReentrantLock l = lock(r.id());
    l.lock();
    try {
      r = store.get(r.id()).orElseThrow(() -> ApiException.notFound("no such VM: " + ref));
      VmHandle vm = live.get(r.id());
      if (vm == null) {
        throw ApiException.conflict("VM " + r.name() + " is not running");
      }
      if (pause && r.state() == VmState.PAUSED) {
        throw ApiException.conflict("VM " + r.name() + " is already paused");
      }
      if (!pause && r.state() != VmState.PAUSED) {
        throw ApiException.conflict("VM " + r.name() + " is not paused");
      }
      try {
        if (pause) {
          vm.pause();
        } else {
          vm.resume();
        }
      } catch (UnsupportedOperationException e) {
        throw ApiException.conflict(
            "the VMM of VM " + r.name() + " (" + r.vmm() + ") cannot pause and resume VMs");
      }
      VmRecord after = r.paused(pause);
      store.update(after);
      events.publish(pause ? "paused" : "unpaused", r.id(), r.name(), null);
      return after;
    } finally {
      l.unlock();
    }
  }

  /** Docker's rename: a free, valid name. */
  public VmRecord rename(String ref, String newName) {
    if (newName == null || newName.isEmpty()) {
      throw ApiException.badRequest("no new name given: name is required");
    }
    String problem = VmNames.problem(newName);
    if (problem != null) {
      throw ApiException.badRequest(problem);
    }
    VmRecord r = resolve(ref);
    ReentrantLock l = lock(r.id());
    l.lock();
    try {
      r = store.get(r.id()).orElseThrow(() -> ApiException.notFound("no such VM: " + ref));
      if (r.name().equals(newName)) {
        throw ApiException.badRequest(
            "VM " + r.name() + " already has the name \"" + newName + "\": give another one");
      }
      if (!store.rename(r, newName)) {
        String owner = store.byName(newName).map(v -> VmIds.shortId(v.id())).orElse("another VM");
        throw ApiException.conflict(
            "the name \""
                + newName
                + "\" is already in use by VM "
                + owner
                + ": remove that VM or choose another name");
      }
      events.publish("renamed", r.id(), newName, null);
      return store.get(r.id()).orElse(r.renamed(newName));
    } finally {
      l.unlock();
    }
  }

  /**
   * Streams logs. With follow (and no until), returns the exit record once the VM has exited and
   * all its output was written; otherwise null.
   */
  public ExitRecord logs(String ref, LogQuery q, FrameSink sink)
      throws IOException, InterruptedException {
    return logs(resolve(ref), q, sink);
  }

  public ExitRecord logs(VmRecord r, LogQuery q, FrameSink sink)
      throws IOException, InterruptedException {
    pin(r.id());
    try {
      backend.logs(r.id(), q, sink);
      if (!q.follow() || q.until() != null) {
        return null;
      }
      CompletableFuture<ExitRecord> f = exits.get(r.id());
      if (f == null) {
        return r.exit();
      }
      try {
        return f.get(60, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        return null;
      }
    } finally {
      unpin(r.id());
    }
  }

  /** Keeps the VM (even with autoRemove) until {@link #unpin}: an attached client reads it. */
  public void pin(String id) {
    pins.merge(id, 1, Integer::sum);
  }

  /** Releases a pin; removes an exited --rm VM once nobody reads it. */
  public void unpin(String id) {
    Integer left = pins.computeIfPresent(id, (k, n) -> n > 1 ? n - 1 : null);
    if (left == null) {
      CompletableFuture<ExitRecord> f = exits.get(id);
      if (f != null && f.isDone()) {
        try {
          store.get(id).filter(VmRecord::autoRemove).ifPresent(r -> removeQuietly(r.id()));
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "cannot look up VM " + id, e);
        }
      }
    }
  }

  /** Whether any VM (in any state) uses the image with this manifest digest; their names. */
  public List<String> usersOf(String manifestDigest, boolean runningOnly) {
    List<String> out = new ArrayList<>();
    for (VmRecord r : store.all()) {
      if (manifestDigest.equals(r.imageDigest()) && (!runningOnly || r.state() != VmState.EXITED)) {
        out.add(r.name());
      }
    }
    return out;
  }

  /**
   * What the VM's writable disk allocates on the host (the blocks its guest wrote, not the sparse
   * file's size); empty when it has none.
   */
  public OptionalLong writableDiskBytes(String id) {
    Optional<Path> disk = backend.writableDisk(id);
    if (disk.isEmpty()) {
      return OptionalLong.empty();
    }
    try {
      return FileNodes.allocatedBytes(disk.get());
    } catch (SyscallException e) {
      LOG.log(Level.FINE, "cannot stat " + disk.get(), e);
      return OptionalLong.empty();
    }
  }

  // --- observe: stats, metrics and health read the handles of running VMs ---

  /** The handle of a running VM, or empty when it does not run. */
  public Optional<VmHandle> handle(String id) {
    return Optional.ofNullable(live.get(id));
  }

  /** The ids of the VMs running now. */
  public Set<String> runningIds() {
    return Set.copyOf(live.keySet());
  }

  /** Calls {@code listener} with every VM that runs from now on, as it starts or is re-adopted. */
  public void onBoot(BiConsumer<String, VmHandle> listener) {
    bootListeners.add(listener);
  }
}
