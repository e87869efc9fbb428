package dev.inferno.daemon.vm;

import dev.inferno.daemon.store.RestartState;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.model.ExitRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Applies a VM's restart policy ({@link RestartPolicy#decide}) when it exits and keeps the pending
 * restarts: one virtual thread per VM sleeping until its restart is due, which then asks the
 * service to boot it again. The bookkeeping lives in the VM's record ({@link RestartState}), so a
 * daemon restart picks the pending restarts up again ({@link #schedule}). Restarts wait until the
 * daemon's start is complete ({@link #ready}): networks restored, as moby's waitForStartupDone.
 */
final class RestartManager {
  private static final Logger LOG = Logger.getLogger(RestartManager.class.getName());

  private final Map<String, Thread> pending = new ConcurrentHashMap<>();
  private final CountDownLatch ready = new CountDownLatch(1);
  private final Consumer<String> due;
  private volatile boolean closed;

  /**
   * @param due called on a virtual thread with the id of a VM whose restart is due; it checks under
   *     the VM's lock that the record still says restarting (a stop may have come first)
   */
  RestartManager(Consumer<String> due) {
    this.due = due;
  }

  /** The daemon's start is complete: pending restarts may run. */
  void ready() {
    ready.countDown();
  }

  static RestartPolicy policy(VmRecord r) {
    try {
      return RestartPolicy.parse(r.request().restart());
    } catch (IllegalArgumentException e) {
      return RestartPolicy.NO; // validated at create: only a hand-edited database gets here
    }
  }

  /**
   * The record after an exit: restarting (due after the back-off delay) or exited.
   *
   * @param cancelled a stop, kill or rm asked this run to stay down
   */
  static VmRecord afterExit(VmRecord r, ExitRecord e, boolean cancelled) {
    RestartPolicy p = policy(r);
    RestartState s = r.restart();
    Instant end = e.finishedAt() != null ? e.finishedAt() : Instant.now();
    Duration ran = r.startedAt() == null ? Duration.ZERO : Duration.between(r.startedAt(), end);
    RestartPolicy.Decision d =
        p.decide(
            new RestartPolicy.Exit(
                e.code() == null ? -1 : e.code(),
                s.stoppedByHand(),
                cancelled,
                s.count(),
                ran.isNegative() ? Duration.ZERO : ran,
                Duration.ofMillis(s.delayMillis())));
    long delay = d.delay().toMillis();
    return switch (d) {
      case RestartPolicy.Decision.Restart(Duration wait, int count) ->
          r.restarting(
              e, new RestartState(count, s.stoppedByHand(), Instant.now().plus(wait), delay));
      case RestartPolicy.Decision.StayDown _ ->
          r.exited(e).withRestart(new RestartState(s.count(), s.stoppedByHand(), null, delay));
    };
  }

  /** Schedules the record's pending restart (replacing one already pending). */
  void schedule(VmRecord r) {
    if (closed) {
      return; // the daemon is going down: the record keeps the restart for its next start
    }
    Instant at = r.restart().restartAt() == null ? Instant.now() : r.restart().restartAt();
    String id = r.id();
    Thread t =
        Thread.ofVirtual()
            .name("restart-" + id)
            .unstarted(() -> {
              try {
                ready.await();
                long ms = Duration.between(Instant.now(), at).toMillis();
                if (ms > 0) {
                  Thread.sleep(ms);
                }
              } catch (InterruptedException e) {
                return; // cancelled
              }
              if (pending.remove(id, Thread.currentThread())) {
                try {
                  due.accept(id);
                } catch (RuntimeException e) {
                  LOG.log(Level.WARNING, "cannot restart VM " + r.name(), e);
                }
              }
            });
    Thread old = pending.put(id, t);
    if (old != null) {
      old.interrupt();
    }
    t.start();
  }

  /** Drops a pending restart; whether there was one. */
  boolean cancel(String id) {
    Thread t = pending.remove(id);
    if (t != null) {
      t.interrupt();
      return true;
    }
    return false;
  }

  /** Whether a restart is pending for the VM. */
  boolean pending(String id) {
    return pending.containsKey(id);
  }

  /** Ends every pending restart (daemon shutdown); the records keep them for the next start. */
  void shutdown() {
    closed = true;
    for (String id : pending.keySet()) {
      cancel(id);
    }
  }
}
