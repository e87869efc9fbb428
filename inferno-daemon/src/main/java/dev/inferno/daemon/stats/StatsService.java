package dev.inferno.daemon.stats;

import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.daemon.backend.VmHandle;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.model.VmStats;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code docker stats} for VMs: one virtual thread takes every running VM's latest guest report
 * once per {@link #INTERVAL} (what the guest sends at that pace), keeping the two newest per VM, so
 * a reading is at hand with its CPU % at once, for {@code stats}, {@code /metrics} and their
 * streams alike.
 */
public final class StatsService implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(StatsService.class.getName());

  /**
   * How often the guest reports (run.json's metrics_interval_secs) and the daemon samples: {@code
   * docker stats} redraws every second, and a report costs the guest a few procfs reads.
   */
  public static final Duration INTERVAL = Duration.ofSeconds(1);

  private final VmService vms;
  private final Duration interval;
  private final Map<String, StatsTracker> trackers = new ConcurrentHashMap<>();
  private final Thread sampler;
  private volatile boolean closed;

  public StatsService(VmService vms) {
    this(vms, INTERVAL);
  }

  StatsService(VmService vms, Duration interval) {
    this.vms = vms;
    this.interval = interval;
    vms.onRemove(trackers::remove);
    this.sampler = Thread.ofVirtual().name("stats-sampler").start(this::sampleForever);
  }

  private void sampleForever() {
    while (!closed) {
      try {
        sampleAll();
        Thread.sleep(interval);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "stats sampling failed", e);
      }
    }
  }

  /** One pass over the running VMs; trackers of VMs no longer running go. */
  void sampleAll() {
    Set<String> running = vms.runningIds();
    trackers.keySet().retainAll(running);
    Instant now = Instant.now();
    for (String id : running) {
      vms.handle(id).ifPresent(h -> sample(id, h, now));
    }
  }

  private boolean sample(String id, VmHandle h, Instant now) {
    Optional<StatsSample> s;
    try {
      s = h.stats();
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "stats of VM " + id, e);
      return false;
    }
    return s.isPresent()
        && trackers.computeIfAbsent(id, k -> new StatsTracker()).offer(s.get(), now);
  }

  /**
   * The VM's figures now. Right after a VM started (no two readings yet), waits up to a few
   * intervals for them, as {@code docker stats --no-stream} waits for its second sample.
   *
   * @throws ApiException 409 when the VM does not run
   */
  public VmStats read(VmRecord r) throws InterruptedException {
    return reading(r).figures();
  }

  /**
   * {@link #read}, with the raw readings behind the figures: for a translation that hands out
   * counters rather than rates (the Docker API's stats, whose clients compute CPU % themselves).
   *
   * @throws ApiException 409 when the VM does not run
   */
  public Reading reading(VmRecord r) throws InterruptedException {
    VmHandle h = running(r);
    long deadline = System.nanoTime() + interval.toNanos() * 5 / 2;
    while (true) {
      sample(r.id(), h, Instant.now());
      StatsTracker t = trackers.get(r.id());
      if ((t != null && t.previous() != null) || System.nanoTime() >= deadline) {
        return reading(r, t);
      }
      Thread.sleep(Math.max(10, interval.toMillis() / 10));
    }
  }

  /** The VM's figures from what was sampled last, without waiting; empty without a reading. */
  public Optional<VmStats> latest(VmRecord r) {
    StatsTracker t = trackers.get(r.id());
    return t == null || t.last() == null ? Optional.empty() : Optional.of(reading(r, t).figures());
  }

  /**
   * Waits for the VM's next new reading (at most two intervals) and returns its figures; empty once
   * the VM no longer runs.
   */
  public Optional<VmStats> next(VmRecord r, Instant after) throws InterruptedException {
    return nextReading(r, after).map(Reading::figures);
  }

  /** {@link #next}, with the raw readings behind the figures (see {@link #reading}). */
  public Optional<Reading> nextReading(VmRecord r, Instant after) throws InterruptedException {
    long deadline = System.nanoTime() + interval.toNanos() * 2;
    while (true) {
      Optional<VmHandle> h = vms.handle(r.id());
      if (h.isEmpty() || h.get().exit().isDone()) {
        return Optional.empty();
      }
      sample(r.id(), h.get(), Instant.now());
      StatsTracker t = trackers.get(r.id());
      boolean fresh = t != null && t.seenAt() != null && t.seenAt().isAfter(after);
      if (fresh || System.nanoTime() >= deadline) {
        return Optional.of(reading(r, t));
      }
      Thread.sleep(Math.max(10, interval.toMillis() / 10));
    }
  }

  /**
   * Figures and the readings they come from.
   *
   * @param figures what {@code inferno stats} shows
   * @param previous the reading before {@code last} from the same boot, or null
   * @param last the newest reading, or null before the guest's first report
   */
  public record Reading(VmStats figures, StatsSample previous, StatsSample last) {}

  private VmHandle running(VmRecord r) {
    return vms.handle(r.id())
        .orElseThrow(() -> ApiException.conflict("VM " + r.name() + " is not running"));
  }

  /** Figures from a tracker; zeros (and no CPU %) before the guest's first report. */
  private Reading reading(VmRecord r, StatsTracker t) {
    // the size the VM booted with: an update while it runs is recorded for its next boot
    Optional<VmHandle.Size> booted = vms.handle(r.id()).flatMap(VmHandle::size);
    int cpus =
        booted.isPresent()
            ? booted.get().vcpus()
            : r.request().cpus() == null ? 1 : (int) Math.ceil(r.request().cpus());
    long limit =
        booted.isPresent()
            ? booted.get().memoryBytes()
            : r.request().memoryBytes() == null ? 0 : r.request().memoryBytes();
    StatsTracker.Snapshot s =
        t == null ? new StatsTracker.Snapshot(null, null, null) : t.snapshot();
    if (s.last() == null) {
      return new Reading(
          new VmStats(r.id(), r.name(), Instant.now(), null, cpus, 0, 0, limit, 0, 0, 0, 0, 0),
          null,
          null);
    }
    return new Reading(
        StatsFigures.of(r.id(), r.name(), s.previous(), s.last(), cpus, limit, s.seenAt()),
        s.previous(),
        s.last());
  }

  @Override
  public void close() {
    closed = true;
    sampler.interrupt();
  }
}
