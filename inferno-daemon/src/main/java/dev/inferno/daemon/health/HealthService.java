package dev.inferno.daemon.health;

import dev.inferno.daemon.backend.VmHandle;
import dev.inferno.daemon.store.VmHealth;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.run.DockerRun;
import dev.inferno.kiln.run.ExecOverrides;
import dev.inferno.model.Health;
import dev.inferno.model.HealthConfig;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Health checks of running VMs: at every boot a VM with a check starts {@code starting} and one
 * virtual thread runs the check every interval until the VM exits; status changes are published as
 * Docker's {@code health_status: …} events. The last state of a VM stays readable (inspect) until
 * it boots again or is removed. Its status and failing streak are kept in the database whenever
 * they change, so a daemon restart that takes a running VM back goes on from its last verdict (the
 * checks' log starts empty again).
 */
public final class HealthService implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(HealthService.class.getName());

  private final VmService vms;
  private final Map<String, Monitor> monitors = new ConcurrentHashMap<>();
  private volatile boolean closed;

  public HealthService(VmService vms) {
    this.vms = vms;
    vms.onBoot(this::booted);
    vms.onRemove(id -> {
      Monitor m = monitors.remove(id);
      if (m != null) {
        m.thread.interrupt();
      }
    });
  }

  /** The VM's health for ps and inspect; null for a VM without a check. */
  public Health health(String vmId) {
    Monitor m = monitors.get(vmId);
    return m == null ? null : m.state.view();
  }

  private void booted(String id, VmHandle vm) {
    if (closed) {
      return;
    }
    Optional<VmRecord> rec = vms.store().get(id);
    if (rec.isEmpty()) {
      return;
    }
    HealthConfig c = rec.get().request().healthcheck();
    if (!HealthRules.enabled(c)) {
      monitors.remove(id);
      return;
    }
    HealthState state = resumed(rec.get(), vm, c);
    Thread t =
        Thread.ofVirtual().name("health-" + id).unstarted(() -> monitor(rec.get(), vm, c, state));
    Monitor old = monitors.put(id, new Monitor(state, t));
    if (old != null) {
      old.thread.interrupt();
    }
    t.start();
  }

  /**
   * This boot's health: the kept verdict when it is this boot's (the daemon restarted and took the
   * VM back), else {@code starting} afresh (kept at once, replacing an earlier boot's).
   */
  private HealthState resumed(VmRecord r, VmHandle vm, HealthConfig c) {
    Optional<VmHealth> kept =
        vms.store().health(r.id()).filter(h -> Objects.equals(h.boot(), r.startedAt()));
    if (kept.isPresent()) {
      return new HealthState(
          vm.startedAt(),
          HealthRules.startPeriod(c),
          HealthRules.retries(c),
          kept.get().status(),
          kept.get().failingStreak());
    }
    HealthState fresh =
        new HealthState(vm.startedAt(), HealthRules.startPeriod(c), HealthRules.retries(c));
    keep(r, fresh.view());
    return fresh;
  }

  private void keep(VmRecord r, Health h) {
    try {
      vms.store().saveHealth(new VmHealth(r.id(), r.startedAt(), h.status(), h.failingStreak()));
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "cannot keep the health of VM " + r.name(), e);
    }
  }

  private void monitor(VmRecord r, VmHandle vm, HealthConfig c, HealthState state) {
    Duration interval = HealthRules.interval(c);
    Duration timeout = HealthRules.timeout(c);
    ExecRequest.Command cmd =
        DockerRun.exec(
            VmService.merged(r),
            VmService.hostname(r),
            new ExecOverrides(HealthRules.argv(c), null, null, null, false, false, null));
    try {
      while (!closed) {
        // Docker's first check comes one interval after the start
        if (waitForExit(vm, interval)) {
          return;
        }
        Optional<GuestExec> guest = vm.exec();
        if (guest.isEmpty()) {
          LOG.warning("VM " + r.name() + " has no session channel: its health check cannot run");
          return;
        }
        Health.Result result = HealthProbe.run(guest.get(), cmd, timeout);
        if (vm.exit().isDone()) {
          return; // the VM went while it ran: not a verdict on its health
        }
        Health before = state.view();
        String changed = state.record(result);
        Health after = state.view();
        if (!after.status().equals(before.status())
            || after.failingStreak() != before.failingStreak()) {
          keep(r, after); // a passing check that changes nothing writes nothing
        }
        if (changed != null) {
          vms.events().publish("health_status: " + changed, r.id(), r.name(), null);
        }
      }
    } catch (InterruptedException e) {
      // removed, rebooted or the daemon is closing
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "health check of VM " + r.name() + " stopped", e);
    }
  }

  /** Sleeps for {@code d} unless the VM exits first; true when it did. */
  private static boolean waitForExit(VmHandle vm, Duration d) throws InterruptedException {
    try {
      vm.exit().get(d.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return true;
    }
  }

  @Override
  public void close() {
    closed = true;
    monitors.values().forEach(m -> m.thread.interrupt());
  }

  private record Monitor(HealthState state, Thread thread) {}
}
