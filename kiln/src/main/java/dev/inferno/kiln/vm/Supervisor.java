package dev.inferno.kiln.vm;

import dev.inferno.kiln.guest.ConsoleExit;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs VMs and stays with them until they are gone. One virtual thread per VM watches the VMM
 * process (pid + start time); when it is gone the supervisor writes exit.json (the guest's report,
 * else the console's INFERNO-EXIT line, else a host-made record with the reason), closes the guest
 * channels and cleans up the VMM's leftovers.
 *
 * <p>VMMs run detached, so the process hosting the supervisor may die and come back: {@link #adopt}
 * reads a state dir, re-binds the guest listeners for a VMM that still runs, and records an exit
 * for one that vanished.
 */
public final class Supervisor {
  private static final Logger LOG = System.getLogger(Supervisor.class.getName());
  private static final Duration WATCH_INTERVAL = Duration.ofMillis(100);

  private final Map<VmmKind, Vmm> drivers;
  private final GuestSession.Factory guests;
  private final Map<String, RunningVm> running = new ConcurrentHashMap<>();

  public Supervisor(Map<VmmKind, Vmm> drivers, GuestSession.Factory guests) {
    this.drivers = new EnumMap<>(drivers);
    this.guests = guests;
  }

  /** The driver for a spec's VMM choice; auto picks Firecracker when it can run here. */
  public Vmm resolve(VmmKind kind) throws VmmException {
    return switch (kind) {
      case AUTO -> {
        Vmm fc = drivers.get(VmmKind.FIRECRACKER);
        if (fc != null && fc.unavailableReason().isEmpty()) {
          yield fc;
        }
        yield resolve(VmmKind.QEMU);
      }
      case FIRECRACKER, QEMU -> {
        Vmm vmm = drivers.get(kind);
        if (vmm == null) {
          throw new VmmException("no " + kind.label() + " driver is configured");
        }
        Optional<String> why = vmm.unavailableReason();
        if (why.isPresent()) {
          throw new VmmException(kind.label() + " cannot run here: " + why.get());
        }
        yield vmm;
      }
    };
  }

  /**
   * Who must own the TAP of a VM about to be started with this spec (see {@link TapOwner}): the
   * host asks before it makes the TAP, then calls {@link #start}. Empty when the VMM runs as this
   * process's user. A caller that does not start the VM after all calls {@link #releaseTapOwner}.
   */
  public Optional<TapOwner> tapOwner(VmSpec spec) throws VmmException {
    return resolve(spec.vmm()).tapOwner(spec);
  }

  /** Frees what {@link #tapOwner} reserved, for a VM that was not started. */
  public void releaseTapOwner(VmSpec spec) throws VmmException {
    resolve(spec.vmm()).releaseTapOwner(spec);
  }

  /** Prepares the state dir, binds the guest listeners and starts the VMM. */
  public RunningVm start(VmSpec requested) throws IOException {
    if (running.containsKey(requested.id())) {
      throw new VmmException("VM " + requested.id() + " is already running");
    }
    Vmm vmm = resolve(requested.vmm());
    VmSpec spec = requested.withVmm(vmm.kind());
    VmLayout layout = spec.layout();
    Files.createDirectories(layout.dir());
    if (Files.exists(layout.exitRecord()) || Files.exists(layout.pidFile())) {
      throw new VmmException(
          "state dir "
              + layout.dir()
              + " belongs to an earlier run: boot it again (startAgain), remove it or use another"
              + " id");
    }
    if (spec.hasWritableDisk()) {
      WritableDisk.create(layout.writableDisk(), spec.writableDiskBytes());
    }
    return boot(spec, vmm, layout);
  }

  /**
   * Boots a VM again on its state dir (Docker's start of an exited container, and every restart):
   * the writable disk is kept as the last boot left it (made only when missing), the last boot's
   * exit record, console and VMM logs move to {@code previous-boot/}, and the log store goes on
   * after the last boot's records (init's sequence numbers start again with a new boot id).
   */
  public RunningVm startAgain(VmSpec requested) throws IOException {
    if (running.containsKey(requested.id())) {
      throw new VmmException(
          "VM " + requested.id() + " is still running: stop it before starting it again");
    }
    VmLayout layout = requested.layout();
    if (!Files.exists(layout.spec())) {
      throw new VmmException(
          layout.dir()
              + " is not the state dir of a VM kiln ran (it has no spec.json): start the VM"
              + " afresh instead");
    }
    if (Files.exists(layout.pidFile())) {
      VmmProcess last = VmmProcess.read(layout.pidFile());
      if (last.isAlive()) {
        throw new VmmException(
            "VM "
                + requested.id()
                + " is still running (VMM pid "
                + last.pid()
                + "): adopt or stop it before starting it again");
      }
    }
    Vmm vmm = resolve(requested.vmm());
    VmSpec spec = requested.withVmm(vmm.kind());
    PreviousBoot.moveAside(layout);
    if (spec.hasWritableDisk() && !Files.exists(layout.writableDisk())) {
      WritableDisk.create(layout.writableDisk(), spec.writableDiskBytes());
    }
    return boot(spec, vmm, layout);
  }

  /** Writes spec and initramfs, binds the guest listeners and starts the VMM. */
  private RunningVm boot(VmSpec spec, Vmm vmm, VmLayout layout) throws IOException {
    SpecJson.write(spec, layout.spec());
    Files.createDirectories(layout.logsDir());
    Initramfs.write(layout.initramfs(), spec.init(), GuestDevices.runConfig(spec).toJson());
    vmm.prepare(spec, layout);
    GuestSession guest;
    try {
      guest = guests.open(spec, layout, vmm.transport(spec, layout));
    } catch (IOException | RuntimeException e) {
      vmm.cleanup(spec, layout);
      throw e;
    }
    VmmProcess process;
    try {
      process = vmm.start(spec, layout);
      process.write(layout.pidFile());
    } catch (IOException | RuntimeException e) {
      guest.close();
      try {
        vmm.cleanup(spec, layout);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return watch(spec, vmm, process, guest, System.currentTimeMillis() * 1_000_000L);
  }

  /**
   * Takes a VM back after a restart of the hosting process. Returns empty when the VM had already
   * finished (exit.json exists); a VM whose VMM vanished comes back with its exit already recorded.
   */
  public Optional<RunningVm> adopt(Path stateDir) throws IOException {
    VmLayout layout = new VmLayout(stateDir);
    // vmm.json goes last when a VM finishes; exit.json alone may be init's report of a VM whose
    // VMM is still shutting down
    if (!Files.exists(layout.spec())
        || (Files.exists(layout.exitRecord()) && !Files.exists(layout.pidFile()))) {
      return Optional.empty();
    }
    VmSpec spec = SpecJson.read(layout.spec());
    RunningVm already = running.get(spec.id());
    if (already != null) {
      return Optional.of(already);
    }
    Vmm vmm = drivers.get(spec.vmm());
    if (vmm == null) {
      throw new VmmException(
          "VM " + spec.id() + " runs under " + spec.vmm().label() + ", which is not configured");
    }
    if (!Files.exists(layout.pidFile())) {
      // died between writing spec.json and starting the VMM
      RunningVm vm = new RunningVm(spec, vmm, new VmmProcess(spec.vmm(), 0, 0), GuestSession.NONE);
      finish(vm, 0, "kiln stopped before the VMM was started");
      return Optional.of(vm);
    }
    VmmProcess process = VmmProcess.read(layout.pidFile());
    long startedNs = Files.getLastModifiedTime(layout.pidFile()).toMillis() * 1_000_000L;
    if (!process.isAlive()) {
      RunningVm vm = new RunningVm(spec, vmm, process, GuestSession.NONE);
      finish(
          vm, startedNs, "the VMM (pid " + process.pid() + ") exited while kiln was not running");
      return Optional.of(vm);
    }
    GuestSession guest = guests.open(spec, layout, vmm.transport(spec, layout));
    RunningVm vm = watch(spec, vmm, process, guest, startedNs);
    try {
      vm.learnPaused(vmm.paused(spec, layout, process));
    } catch (IOException | RuntimeException e) {
      LOG.log(
          Level.WARNING, "cannot tell whether VM " + spec.id() + " is paused: " + e.getMessage());
    }
    return Optional.of(vm);
  }

  /**
   * Adopts every VM under a state root (one sub-directory per VM), for a daemon coming back up. A
   * directory that cannot be adopted is logged and skipped, so one bad VM does not block the rest.
   */
  public java.util.List<RunningVm> adoptAll(Path stateRoot) throws IOException {
    java.util.List<RunningVm> adopted = new java.util.ArrayList<>();
    if (!Files.isDirectory(stateRoot)) {
      return adopted;
    }
    try (var dirs = Files.list(stateRoot)) {
      for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
        try {
          adopt(dir).ifPresent(adopted::add);
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.WARNING, "cannot adopt the VM in " + dir + ": " + e.getMessage());
        }
      }
    }
    return adopted;
  }

  public Optional<RunningVm> get(String id) {
    return Optional.ofNullable(running.get(id));
  }

  private RunningVm watch(
      VmSpec spec, Vmm vmm, VmmProcess process, GuestSession guest, long startedNs) {
    RunningVm vm = new RunningVm(spec, vmm, process, guest);
    running.put(spec.id(), vm);
    Thread.ofVirtual()
        .name("kiln-watch-" + spec.id())
        .start(() -> {
          while (process.isAlive()) {
            try {
              Thread.sleep(WATCH_INTERVAL);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
          finish(vm, startedNs, null);
        });
    return vm;
  }

  private void finish(RunningVm vm, long startedNs, String vanishedReason) {
    VmSpec spec = vm.spec();
    VmLayout layout = spec.layout();
    try {
      ExitRecord record = exitRecordFor(vm, layout, startedNs, vanishedReason);
      record.write(layout.exitRecord());
      vm.guest().close();
      try {
        vm.driver().cleanup(spec, layout);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "cleanup of VM " + spec.id() + " failed: " + e.getMessage());
      }
      Files.deleteIfExists(layout.pidFile());
      // before the future completes: whoever waits on it may boot the VM again at once
      running.remove(spec.id(), vm);
      vm.complete(record);
    } catch (IOException | RuntimeException e) {
      vm.fail(e);
    } finally {
      running.remove(spec.id(), vm);
    }
  }

  /** Whether the guest wrote to its console (a quiet kernel may not: init's HELLO tells then). */
  private static boolean consoleWritten(VmLayout layout) {
    try {
      return Files.size(layout.console()) > 0;
    } catch (IOException e) {
      return false;
    }
  }

  private static ExitRecord exitRecordFor(
      RunningVm vm, VmLayout layout, long startedNs, String vanishedReason) throws IOException {
    Optional<ExitRecord> report = vm.guest().exitReport();
    if (report.isEmpty()) {
      report = ConsoleExit.recover(layout.console()).map(r -> ExitRecord.fromReport(r, "console"));
    }
    if (report.isPresent()) {
      return report.get();
    }
    if (vm.killedBecause() != null) {
      return ExitRecord.hostMade(137, 9, startedNs, vm.killedBecause());
    }
    String vmmLog = DetachedLauncher.tail(layout.vmmLog(), 5).replace('\n', ' ').strip();
    if (vmmLog.isEmpty()) {
      vmmLog = "(" + layout.vmmLog() + " is empty)";
    }
    String why =
        vanishedReason != null
            ? vanishedReason
            : vm.guest().initConnected() || consoleWritten(layout)
                ? "the VMM exited without an exit report from init; VMM log: " + vmmLog
                // e.g. QEMU refusing its memory or an argument: its own words are the reason
                : "the VMM exited before the guest started: " + vmmLog;
    return ExitRecord.hostMade(ExitRecord.NO_REPORT_CODE, null, startedNs, why);
  }
}
