package dev.inferno.daemon.testing;

import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.backend.GuestNic;
import dev.inferno.daemon.backend.LaunchSpec;
import dev.inferno.daemon.backend.LogQuery;
import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.daemon.backend.VmBackend;
import dev.inferno.daemon.backend.VmHandle;
import dev.inferno.daemon.vm.SignalNames;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.stream.Frame;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A stand-in for kiln that runs a VM's process as a host process in its own session, for testing
 * the daemon and the CLI where no guest can boot. It keeps kiln's semantics where the daemon can
 * see them: output as timestamped stdout/stderr records, exit code 128+n for signal n, 127 when the
 * command does not exist (as the guest's init reports it), the stop escalation (signal, grace,
 * SIGKILL), and everything in the "VM" dying with its process (the whole session is killed).
 */
public final class ProcessVmBackend implements VmBackend {
  private final Map<String, Proc> vms = new ConcurrentHashMap<>();
  private volatile LaunchSpec lastSpec;

  private volatile GuestNic.Owner tapOwner = GuestNic.Owner.ROOT;
  private final List<String> releasedTapOwners = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Makes {@link #tapOwner} answer this, as a jailing VMM's driver would. */
  public void tapOwner(GuestNic.Owner owner) {
    tapOwner = owner;
  }

  @Override
  public GuestNic.Owner tapOwner(LaunchSpec spec) {
    return tapOwner;
  }

  @Override
  public void releaseTapOwner(LaunchSpec spec) {
    releasedTapOwners.add(spec.id());
  }

  /** The VMs whose TAP owner was given back (never started). */
  public List<String> releasedTapOwners() {
    return releasedTapOwners;
  }

  /** VM id → a file standing in for its writable disk (a process has none of its own). */
  private final Map<String, java.nio.file.Path> writableDisks = new ConcurrentHashMap<>();

  /** Makes {@code file} the VM's writable disk, as kiln's scratch.ext4 is. */
  public void writableDisk(String id, java.nio.file.Path file) {
    writableDisks.put(id, file);
  }

  @Override
  public java.util.Optional<java.nio.file.Path> writableDisk(String id) {
    return java.util.Optional.ofNullable(writableDisks.get(id));
  }

  /** The spec of the VM started last: what the daemon handed kiln. */
  public LaunchSpec lastSpec() {
    return lastSpec;
  }

  /** When each VM was booted (start and start again), in order. */
  private final Map<String, List<Instant>> boots = new ConcurrentHashMap<>();

  /** When the VM was booted, every time, oldest first. */
  public List<Instant> boots(String id) {
    return List.copyOf(boots.getOrDefault(id, List.of()));
  }

  @Override
  public VmHandle start(LaunchSpec spec) {
    if (vms.containsKey(spec.id())) {
      throw new IllegalStateException("VM " + spec.id() + " was started before: start it again");
    }
    return boot(spec, List.of());
  }

  /** As kiln's: the same VM again, its earlier boots' output kept before the new one's. */
  @Override
  public VmHandle startAgain(LaunchSpec spec) {
    Proc old = vms.get(spec.id());
    if (old != null && !old.exit.isDone()) {
      throw new IllegalStateException("VM " + spec.id() + " still runs");
    }
    List<Frame> earlier;
    if (old == null) {
      earlier = List.of();
    } else {
      old.lock.lock();
      try {
        earlier = List.copyOf(old.records);
      } finally {
        old.lock.unlock();
      }
    }
    return boot(spec, earlier);
  }

  private VmHandle boot(LaunchSpec spec, List<Frame> earlier) {
    lastSpec = spec;
    boots
        .computeIfAbsent(spec.id(), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
        .add(Instant.now());
    Proc vm = new Proc(spec.id(), Instant.now());
    vm.size = new VmHandle.Size(spec.cpus(), spec.memoryBytes());
    vm.records.addAll(earlier);
    List<String> cmd = new ArrayList<>();
    cmd.add("setsid");
    cmd.addAll(spec.argv());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    // without -i a VM's process reads /dev/null, as init gives it; with -i attach feeds it
    if (!spec.stdin()) {
      pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    }
    for (String kv : spec.env()) {
      int eq = kv.indexOf('=');
      pb.environment().put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new BackendException(
          BackendException.Kind.FAILED, "cannot start the test process: " + e.getMessage(), e);
    }
    vm.process = p;
    vm.guest =
        new ProcessGuestExec(spec.stdin() ? p.getOutputStream() : OutputStream.nullOutputStream());
    vms.put(spec.id(), vm);
    Thread out = Thread.ofVirtual().start(() -> vm.pump(p.getInputStream(), Frame.Kind.STDOUT));
    Thread err = Thread.ofVirtual().start(() -> vm.pump(p.getErrorStream(), Frame.Kind.STDERR));
    Thread.ofVirtual()
        .start(() -> {
          try {
            int code = p.waitFor();
            vm.killSession(); // like a VM: when the process ends, everything in it ends
            out.join();
            err.join();
            vm.finish(code);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    return vm;
  }

  @Override
  public Adoption adopt(String id) {
    Proc vm = vms.get(id);
    if (vm == null) {
      return new Adoption.Vanished("the test backend has no record of it");
    }
    if (vm.exit.isDone()) {
      return new Adoption.Exited(vm.exit.join());
    }
    return new Adoption.Adopted(vm);
  }

  @Override
  public void logs(String id, LogQuery q, FrameSink sink) throws IOException {
    Proc vm = vms.get(id);
    if (vm == null) {
      return;
    }
    int next;
    List<Frame> first;
    vm.lock.lock();
    try {
      List<Frame> admitted = new ArrayList<>();
      for (Frame r : vm.records) {
        if (q.admits(r.time())) {
          admitted.add(r);
        }
      }
      first =
          q.tail() >= 0 && q.tail() < admitted.size()
              ? admitted.subList(admitted.size() - q.tail(), admitted.size())
              : admitted;
      first = List.copyOf(first);
      next = vm.records.size();
    } finally {
      vm.lock.unlock();
    }
    for (Frame r : first) {
      sink.accept(r);
    }
    while (q.follow()) {
      List<Frame> batch;
      boolean done;
      vm.lock.lock();
      try {
        while (next == vm.records.size() && !vm.outputDone) {
          try {
            vm.changed.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        batch = List.copyOf(vm.records.subList(next, vm.records.size()));
        next = vm.records.size();
        done = vm.outputDone;
      } finally {
        vm.lock.unlock();
      }
      for (Frame r : batch) {
        if (q.until() != null && !r.time().isBefore(q.until())) {
          return;
        }
        if (q.admits(r.time())) {
          sink.accept(r);
        }
      }
      if (done) {
        return;
      }
    }
  }

  @Override
  public void remove(String id) {
    Proc vm = vms.get(id);
    if (vm != null && !vm.exit.isDone()) {
      throw new IllegalStateException("VM " + id + " is still running");
    }
    vms.remove(id);
  }

  @Override
  public String defaultVmm() {
    return "process";
  }

  @Override
  public boolean kvm() {
    return false;
  }

  /** The resizes the VM's session side received ("main 24x80", "exec 30x100"). */
  public List<String> resizes(String id) {
    return vms.get(id).guest.resizes;
  }

  /** Delivers a guest METRICS report for the VM, as init would send one (its latest wins). */
  public void report(String id, StatsSample sample) {
    vms.get(id).stats = sample;
  }

  /**
   * {@link #report}, then waits (10 s at most) until the daemon has read it: the next report then
   * does not replace it unseen, however late the daemon's sampler runs.
   */
  public void reportTaken(String id, StatsSample sample) throws InterruptedException {
    report(id, sample);
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (vms.get(id).statsTaken != sample) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the daemon never read the report of " + id);
      }
      Thread.sleep(10);
    }
  }

  /** Kills every test process still running (daemon shutdown in tests). */
  public void killAll() {
    for (Proc vm : vms.values()) {
      vm.kill("SIGKILL");
    }
  }

  private static final class Proc implements VmHandle {
    private final String id;
    private final Instant startedAt;
    private final CompletableFuture<ExitRecord> exit = new CompletableFuture<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<Frame> records = new ArrayList<>();
    private boolean outputDone;
    private int pumpsDone;
    private volatile Process process;
    private volatile VmHandle.Size size;

    @Override
    public Optional<VmHandle.Size> size() {
      return Optional.ofNullable(size);
    }

    private volatile ProcessGuestExec guest;
    private volatile StatsSample stats;
    private volatile StatsSample statsTaken; // the report the daemon read last
    private volatile boolean paused;

    Proc(String id, Instant startedAt) {
      this.id = id;
      this.startedAt = startedAt;
    }

    void pump(InputStream in, Frame.Kind stream) {
      byte[] buf = new byte[8192];
      try (in) {
        int n;
        while ((n = in.read(buf)) > 0) {
          append(new Frame(stream, Frame.nanos(Instant.now()), Arrays.copyOf(buf, n)));
        }
      } catch (IOException e) {
        // the pipe broke: the process is gone
      }
      lock.lock();
      try {
        if (++pumpsDone == 2) {
          outputDone = true;
        }
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    private void append(Frame r) {
      lock.lock();
      try {
        records.add(r);
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    void finish(int code) {
      String signal = code > 128 && code < 128 + 65 ? SignalNames.name(code - 128) : null;
      if (code == 127 || code == 126) {
        signal = null;
      }
      exit.complete(new ExitRecord(code, signal, false, null, Instant.now()));
    }

    void killSession() {
      signalGroup("KILL");
    }

    private void signalGroup(String sig) {
      Process p = process;
      if (p != null) {
        runKill("-" + sig, "--", "-" + p.pid());
      }
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public Optional<GuestExec> exec() {
      return Optional.ofNullable(guest);
    }

    @Override
    public Optional<StatsSample> stats() {
      StatsSample s = stats;
      statsTaken = s;
      return Optional.ofNullable(s);
    }

    @Override
    public long pid() {
      return process.pid();
    }

    @Override
    public String vmm() {
      return "process";
    }

    @Override
    public Instant startedAt() {
      return startedAt;
    }

    @Override
    public CompletableFuture<ExitRecord> exit() {
      return exit;
    }

    /** SIGSTOP to the whole session: nothing in the "VM" runs, as with a paused VMM. */
    @Override
    public void pause() {
      signalGroup("STOP");
      paused = true;
    }

    @Override
    public void resume() {
      signalGroup("CONT");
      paused = false;
    }

    @Override
    public void stop(String signal, int graceSeconds) {
      kill(signal);
      Thread.ofVirtual()
          .start(() -> {
            try {
              exit.get(graceSeconds, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
              kill("SIGKILL");
            } catch (Exception e) {
              // already gone
            }
          });
    }

    @Override
    public void kill(String signal) {
      Process p = process;
      if (p == null || !p.isAlive()) {
        return;
      }
      if (SignalNames.number(signal) == 9) {
        signalGroup("KILL");
      } else {
        runKill("-" + SignalNames.number(signal), String.valueOf(p.pid()));
        if (paused) {
          resume(); // as kiln: a paused VM is resumed to take its signal
        }
      }
    }

    private static void runKill(String... args) {
      List<String> cmd = new ArrayList<>();
      cmd.add("kill");
      cmd.addAll(List.of(args));
      try {
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start()
            .waitFor();
      } catch (IOException e) {
        throw new IllegalStateException("cannot run kill: " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
