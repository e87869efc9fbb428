package dev.inferno.daemon.kiln;

import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.backend.GuestNic;
import dev.inferno.daemon.backend.LaunchSpec;
import dev.inferno.daemon.backend.LogQuery;
import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.daemon.backend.VmBackend;
import dev.inferno.daemon.backend.VmHandle;
import dev.inferno.daemon.config.DaemonConfig;
import dev.inferno.daemon.config.Preflight;
import dev.inferno.daemon.stats.StatsService;
import dev.inferno.daemon.vm.SignalNames;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.firecracker.Firecracker;
import dev.inferno.kiln.logs.LogCursor;
import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.logs.LogSink;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.logs.TimeBase;
import dev.inferno.kiln.protocol.ConsoleSize;
import dev.inferno.kiln.protocol.ProcessSpec;
import dev.inferno.kiln.protocol.RunConfig;
import dev.inferno.kiln.qemu.Qemu;
import dev.inferno.kiln.run.DockerRun;
import dev.inferno.kiln.run.MergedConfig;
import dev.inferno.kiln.vm.Drive;
import dev.inferno.kiln.vm.GuestSession;
import dev.inferno.kiln.vm.LinkedGuest;
import dev.inferno.kiln.vm.Nic;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.TmpfsMount;
import dev.inferno.kiln.vm.VmLayout;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.Vmm;
import dev.inferno.kiln.vm.VmmException;
import dev.inferno.kiln.vm.VmmKind;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.stream.Frame;
import dev.inferno.sys.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The daemon's {@link VmBackend} over kiln's {@link Supervisor}: every VM gets a state dir under
 * {@code <state>/vms/<id>} (kiln's layout: spec, VMM pid, console, logs, exit.json), a run.json
 * built from the launch spec, and a guest link whose log store the daemon reads. kiln's records
 * become the daemon's in {@link KilnAdapter}; kiln's failures leave as {@link BackendException}.
 */
public final class KilnVmBackend implements VmBackend {
  private static final Duration SINK_DRAIN = Duration.ofSeconds(3);

  private final Supervisor supervisor;
  private final Path vmsDir;
  private final Path kernel;
  private final Path init;
  private final long writableDiskBytes;
  private final String defaultVmm;
  private final boolean kvm;
  private final LogSink logSink;
  private final Map<String, KilnVm> vms = new ConcurrentHashMap<>();

  public KilnVmBackend(
      Supervisor supervisor,
      Path vmsDir,
      Path kernel,
      Path init,
      long writableDiskBytes,
      String defaultVmm,
      boolean kvm,
      LogSink logSink) {
    this.supervisor = supervisor;
    this.vmsDir = vmsDir;
    this.kernel = kernel;
    this.init = init;
    this.writableDiskBytes = writableDiskBytes;
    this.defaultVmm = defaultVmm;
    this.kvm = kvm;
    this.logSink = logSink;
  }

  /**
   * The backend the daemon runs: kiln's QEMU and Firecracker drivers as the config sets them up, VM
   * state dirs under {@code <state>/vms}, and the log sink when one is configured.
   */
  public static KilnVmBackend create(DaemonConfig cfg, boolean kvm) throws IOException {
    Map<VmmKind, Vmm> drivers =
        Map.of(
            VmmKind.QEMU,
            new Qemu(
                new Qemu.Config(
                    cfg.qemu().toString(),
                    Qemu.Accel.valueOf(cfg.qemuAccel().toUpperCase(Locale.ROOT)))),
            VmmKind.FIRECRACKER,
            new Firecracker(
                new Firecracker.Config(
                    cfg.firecracker().toString(),
                    cfg.jailer().toString(),
                    cfg.jailUidFirst(),
                    cfg.jailUidLast() - cfg.jailUidFirst() + 1,
                    "inferno",
                    64,
                    Path.of("/sys/fs/cgroup"),
                    Duration.ofSeconds(5))));
    Path vmsDir = cfg.stateDir().resolve("vms");
    Files.createDirectories(vmsDir);
    return new KilnVmBackend(
        new Supervisor(
            drivers, guests(new LogStore.Options(cfg.logMaxBytes(), cfg.logMaxFiles(), 64 << 10))),
        vmsDir,
        cfg.kernel(),
        cfg.init(),
        1L << 30,
        Preflight.resolveVmm(cfg, kvm),
        kvm,
        cfg.logSink() == null ? null : new LogSink(cfg.logSink(), 10_000));
  }

  /**
   * The sessions a supervisor for the daemon needs: the daemon keeps reading logs after exit; each
   * VM's log store rotates at {@code logs}' size and keeps its number of files.
   */
  public static GuestSession.Factory guests(LogStore.Options logs) {
    return LinkedGuest.factory(false, logs);
  }

  /** Forwards the VM's records to the log sink (when one is configured) from now on. */
  private void forward(RunningVm vm, String name) {
    if (logSink != null && vm.guest() instanceof LinkedGuest linked) {
      Thread follower = logSink.follow(linked.logs(), vm.spec().id(), name);
      // the daemon keeps an exited VM's store open (for `logs`): end the follower once the last
      // records are durable rather than when the VM is removed
      var _ =
          vm.exit()
              .whenComplete((e, err) ->
                  Thread.ofVirtual()
                      .start(() -> {
                        try {
                          Thread.sleep(SINK_DRAIN.toMillis());
                        } catch (InterruptedException ie) {
                          Thread.currentThread().interrupt();
                        }
                        follower.interrupt();
                      }));
    }
  }

  /**
   * The guest's run config (PROTOCOL.md §5). The daemon merged the image's config and the request
   * when it created the VM ({@link DockerRun#merge}); this is Docker's start step (HOSTNAME, PATH).
   */
  static RunConfig runConfig(LaunchSpec s) {
    String hostname = s.hostname();
    // argv is entrypoint + cmd already
    MergedConfig merged =
        new MergedConfig(s.argv(), List.of(), s.env(), s.workdir(), s.user(), s.stopSignal());
    ProcessSpec process =
        DockerRun.process(merged, hostname)
            .withTerminal(
                s.tty(),
                s.stdin(),
                s.consoleSize() == null
                    ? null
                    : new ConsoleSize(s.consoleSize().get(0), s.consoleSize().get(1)));
    return RunConfig.builder(s.id(), process)
        .hostname(hostname)
        .stopTimeoutSecs(s.stopTimeoutSeconds())
        .dns(new RunConfig.Dns(s.nameservers(), s.search()))
        .hosts(s.hosts())
        .metricsIntervalSecs(StatsService.INTERVAL.toSeconds()) // stats' pace (see StatsService)
        .network(
            s.nic() == null
                ? null
                : new RunConfig.Network(
                    s.nic().mac(), s.nic().address(), s.nic().gateway(), s.nic().mtu()))
        .build();
  }

  /** kiln's spec of the VM (its volumes, tmpfs mounts and root: kiln picks the devices). */
  VmSpec vmSpec(LaunchSpec s) {
    return new VmSpec(
            s.id(),
            kernel,
            init,
            runConfig(s),
            s.image().disk(),
            writableDiskBytes,
            s.cpus(),
            (int) Math.max(VmSpec.MIN_MEMORY_MIB, s.memoryBytes() >> 20),
            Duration.ofSeconds(s.stopTimeoutSeconds()),
            VmmKind.parse(s.vmm()),
            vmsDir.resolve(s.id()),
            s.nic() == null ? null : new Nic(s.nic().device(), s.nic().mac()))
        .withStorage(
            s.storage().drives().stream()
                .map(d -> new Drive(d.file(), d.target(), d.readOnly()))
                .toList(),
            s.storage().tmpfs().stream()
                .map(t -> new TmpfsMount(t.target(), t.sizeBytes(), t.mode()))
                .toList(),
            s.storage().readOnlyRoot());
  }

  @Override
  public GuestNic.Owner tapOwner(LaunchSpec s) {
    try {
      return supervisor
          .tapOwner(vmSpec(s))
          .map(o -> new GuestNic.Owner(o.uid(), o.gid()))
          .orElse(GuestNic.Owner.ROOT);
    } catch (VmmException | RuntimeException e) {
      throw new BackendException(
          BackendException.Kind.FAILED,
          "cannot reserve the VMM's identity for VM " + s.name() + ": " + e.getMessage(),
          e);
    }
  }

  @Override
  public void releaseTapOwner(LaunchSpec s) {
    try {
      supervisor.releaseTapOwner(vmSpec(s));
    } catch (VmmException | RuntimeException e) {
      // nothing was started with it; the next daemon start reconciles the jail identities
    }
  }

  @Override
  public VmHandle start(LaunchSpec s) {
    try {
      VmSpec spec = vmSpec(s);
      KilnVm vm = new KilnVm(supervisor.start(spec), Instant.now());
      vms.put(s.id(), vm);
      forward(vm.vm, s.name());
      return vm;
    } catch (IOException | RuntimeException e) {
      throw new BackendException(
          BackendException.Kind.FAILED,
          "cannot start VM " + s.name() + ": " + (e.getMessage() == null ? e : e.getMessage()),
          e);
    }
  }

  /**
   * kiln's start again on the VM's state dir: its writable disk as the last boot left it, its log
   * store going on after the last boot's records (the previous boot's store handle is closed first:
   * one writer).
   */
  @Override
  public VmHandle startAgain(LaunchSpec s) {
    try {
      KilnVm old = vms.remove(s.id());
      if (old != null && old.vm.guest() instanceof LinkedGuest linked) {
        linked.logs().close();
      }
      KilnVm vm = new KilnVm(supervisor.startAgain(vmSpec(s)), Instant.now());
      vms.put(s.id(), vm);
      forward(vm.vm, s.name());
      return vm;
    } catch (IOException | RuntimeException e) {
      throw new BackendException(
          BackendException.Kind.FAILED,
          "cannot start VM "
              + s.name()
              + " again: "
              + (e.getMessage() == null ? e : e.getMessage()),
          e);
    }
  }

  @Override
  public Adoption adopt(String id) {
    Path dir = vmsDir.resolve(id);
    VmLayout layout = new VmLayout(dir);
    try {
      if (Files.exists(layout.exitRecord())) {
        return new Adoption.Exited(KilnAdapter.exit(layout.exitRecord()));
      }
      Optional<RunningVm> vm = supervisor.adopt(dir);
      if (vm.isEmpty()) {
        return new Adoption.Vanished("kiln has no state for it in " + dir);
      }
      KilnVm k =
          new KilnVm(vm.get(), Instant.ofEpochMilli(Files.getLastModifiedTime(dir).toMillis()));
      vms.put(id, k);
      if (vm.get().exit().isDone()) {
        return new Adoption.Exited(KilnAdapter.exit(vm.get().exit().join()));
      }
      forward(vm.get(), id); // from now on: what came while the daemon was down was not sent
      return new Adoption.Adopted(k);
    } catch (IOException | RuntimeException e) {
      return new Adoption.Vanished("kiln could not re-adopt it: " + e.getMessage());
    }
  }

  @Override
  public void logs(String id, LogQuery q, FrameSink sink) throws IOException {
    KilnVm vm = vms.get(id);
    LogStore store;
    boolean mine = false;
    if (vm != null && vm.vm.guest() instanceof LinkedGuest linked) {
      store = linked.logs();
    } else {
      Path dir = new VmLayout(vmsDir.resolve(id)).logsDir();
      if (!Files.isDirectory(dir)) {
        return;
      }
      store = LogStore.open(dir);
      mine = true;
    }
    // since: through the index; tail with follow: the last N, then new ones; otherwise from the
    // first record (without follow the last N matching are kept below)
    LogCursor cursor =
        q.since() != null
            ? store.sinceCursor(Frame.nanos(q.since()), TimeBase.HOST)
            : q.follow() && q.tail() >= 0
                ? store.tailCursor(q.tail())
                : store.cursor(store.firstOrdinal());
    try (LogCursor c = cursor) {
      if (!q.follow()) {
        // tail of what matches since/until: keep the last N
        ArrayDeque<Frame> last = new ArrayDeque<>();
        for (LogRecord r = c.next(); r != null; r = c.next()) {
          Frame m = KilnAdapter.frame(r);
          if (m == null || !q.admits(m.time())) {
            continue;
          }
          last.addLast(m);
          if (q.tail() >= 0 && last.size() > q.tail()) {
            last.removeFirst();
          }
        }
        for (Frame f : last) {
          sink.accept(f);
        }
        return;
      }
      while (true) {
        // the wake ticket is taken before the exit check, so an exit (and its wake) after the
        // check ends the wait below at once; once the VM is gone, what is durable is everything
        // it wrote, and the loop ends when that is read
        long ticket = store.wakeTicket();
        boolean over = vm == null || vm.vm.exit().isDone();
        LogRecord r = over ? c.next() : c.next(Duration.ofMillis(500), ticket);
        if (r == null) {
          if (over) {
            return;
          }
          continue;
        }
        Frame m = KilnAdapter.frame(r);
        if (m != null && q.until() != null && !m.time().isBefore(q.until())) {
          return;
        }
        if (m != null && q.admits(m.time())) {
          sink.accept(m);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (mine) {
        store.close();
      }
    }
  }

  @Override
  public void remove(String id) {
    KilnVm vm = vms.remove(id);
    Path dir = vmsDir.resolve(id);
    try {
      if (vm != null && vm.vm.guest() instanceof LinkedGuest linked) {
        linked.logs().close();
      }
      FileTrees.delete(dir);
    } catch (IOException e) {
      throw new BackendException(
          BackendException.Kind.FAILED,
          "cannot remove the files of VM " + id + " in " + dir + ": " + e.getMessage(),
          e);
    }
  }

  @Override
  public OptionalLong logBytes(String id) {
    Path dir = new VmLayout(vmsDir.resolve(id)).logsDir();
    try (var files = Files.list(dir)) {
      long sum = 0;
      for (Path f : (Iterable<Path>) files::iterator) {
        sum += Files.size(f);
      }
      return OptionalLong.of(sum);
    } catch (IOException e) {
      return OptionalLong.empty(); // removed meanwhile, or never started
    }
  }

  @Override
  public Optional<Path> writableDisk(String id) {
    Path disk = new VmLayout(vmsDir.resolve(id)).writableDisk();
    return Files.exists(disk) ? Optional.of(disk) : Optional.empty();
  }

  @Override
  public String defaultVmm() {
    return defaultVmm;
  }

  @Override
  public boolean kvm() {
    return kvm;
  }

  /** The daemon's handle on one kiln VM. */
  private static final class KilnVm implements VmHandle {
    private final RunningVm vm;
    private final Instant startedAt;
    private final CompletableFuture<ExitRecord> exit;

    KilnVm(RunningVm vm, Instant startedAt) {
      this.vm = vm;
      this.startedAt = startedAt;
      this.exit =
          vm.exit().handle((e, err) -> e == null ? KilnAdapter.lost(err) : KilnAdapter.exit(e));
      if (vm.guest() instanceof LinkedGuest linked) {
        // the store stays open after the exit (logs reads it later): the exit wakes the followers
        // waiting for records, which otherwise noticed it only at the end of their 500 ms wait
        var _ = vm.exit().whenComplete((e, err) -> linked.logs().wakeReaders());
      }
    }

    @Override
    public String id() {
      return vm.spec().id();
    }

    @Override
    public long pid() {
      return vm.process().pid();
    }

    @Override
    public String vmm() {
      return vm.vmm().label();
    }

    @Override
    public Instant startedAt() {
      return startedAt;
    }

    @Override
    public Optional<Size> size() {
      return Optional.of(new Size(vm.spec().vcpus(), (long) vm.spec().memoryMib() << 20));
    }

    @Override
    public CompletableFuture<ExitRecord> exit() {
      return exit;
    }

    /**
     * The VM's own stop signal goes through kiln's stop (control channel, then after the grace the
     * VMM's shutdown and SIGKILL). Another signal is sent to the workload through the control
     * channel; after the grace kiln escalates at once (zero grace for its own stop signal).
     */
    @Override
    public void stop(String signal, int graceSeconds) {
      Duration grace = Duration.ofSeconds(graceSeconds);
      Thread.ofVirtual()
          .start(() -> {
            try {
              if (!signal.equals(stopSignal()) && vm.guest() instanceof LinkedGuest linked) {
                long t0 = System.nanoTime();
                linked.link().signal(SignalNames.number(signal), grace);
                Duration left = grace.minusNanos(System.nanoTime() - t0);
                try {
                  vm.exit().get(Math.max(0, left.toMillis()), TimeUnit.MILLISECONDS);
                  return;
                } catch (TimeoutException e) {
                  vm.stop(Duration.ZERO);
                  return;
                }
              }
              vm.stop(grace);
            } catch (Exception e) {
              // the watcher records the exit either way
            }
          });
    }

    @Override
    public Optional<GuestExec> exec() {
      return vm.exec();
    }

    @Override
    public void pause() {
      try {
        vm.pause();
      } catch (IOException e) {
        throw new BackendException(
            BackendException.Kind.FAILED, "cannot pause VM " + id() + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void resume() {
      try {
        vm.resume();
      } catch (IOException e) {
        throw new BackendException(
            BackendException.Kind.FAILED, "cannot resume VM " + id() + ": " + e.getMessage(), e);
      }
    }

    /** The guest's last METRICS report (the VMM's own metrics are per-flush deltas: not used). */
    @Override
    public Optional<StatsSample> stats() {
      return vm.guestMetrics().map(KilnAdapter::stats);
    }

    private String stopSignal() {
      return vm.spec().runConfig().process().stopSignal();
    }

    @Override
    public void kill(String signal) {
      int n = SignalNames.number(signal);
      try {
        if (n == 9 || !(vm.guest() instanceof LinkedGuest linked)) {
          vm.kill(); // kiln records 137 / SIGKILL, as Docker does
        } else {
          linked.link().signal(n, Duration.ofSeconds(5));
        }
      } catch (Exception e) {
        throw new IllegalStateException("cannot signal VM " + id() + ": " + e.getMessage(), e);
      }
    }
  }
}
