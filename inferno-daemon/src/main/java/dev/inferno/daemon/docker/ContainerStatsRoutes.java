package dev.inferno.daemon.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.daemon.exec.GuestSessions;
import dev.inferno.daemon.stats.StatsService;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.model.VmState;
import dev.inferno.model.VmStats;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code docker stats} and {@code docker top}: translations onto the inferno API's sources (the
 * {@link StatsService}'s readings, the guest's top session), in Docker's shapes. The docker CLIs
 * compute CPU %, memory, net and block I/O from the counters themselves, so the counters are given
 * as dockerd gives a cgroup v2 container's (see docs/docker-api.md "Stats and top").
 */
final class ContainerStatsRoutes {
  /** What {@code ps_args} the guest's top honours: it lists processes as {@code ps -ef} does. */
  private static final Set<String> PS_ARGS = Set.of("", "-ef", "-e -f", "-fe");

  /** The guest's one interface (docs/networking.md): the counters are its. */
  private static final String INTERFACE = "eth0";

  private static final long NANOS_PER_MILLI = 1_000_000L;

  private final DockerContext ctx;

  ContainerStatsRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of(
        new Route("GET", "/containers/{id}/stats", this::stats),
        new Route("GET", "/containers/{id}/top", this::top));
  }

  /**
   * {@code stream} (default true) writes a reading per interval until the client goes; {@code
   * stream=0} one reading with its predecessor as {@code precpu_stats} (what {@code docker stats
   * --no-stream} computes CPU % from); {@code one-shot=1} (with {@code stream=0}) one reading
   * without it. A container that does not run reads as dockerd's empty stats (name and id only).
   */
  private void stats(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    boolean stream = ex.query("stream") == null || ex.flag("stream");
    boolean oneShot = ex.flag("one-shot");
    if (stream && oneShot) {
      throw ApiException.badRequest("cannot have stream=true and one-shot=true");
    }
    if (!stream) {
      Optional<StatsService.Reading> now = running(r);
      ex.send(200, now.map(x -> shape(r, x, !oneShot)).orElseGet(() -> empty(r)));
      return;
    }
    OutputStream out = ex.stream("application/json");
    Optional<StatsService.Reading> next = running(r);
    while (true) {
      Instant after = Instant.now();
      JsonNode reading = next.isPresent() ? shape(r, next.get(), true) : empty(r);
      out.write(ctx.json().writeValueAsBytes(reading));
      out.write('\n');
      out.flush(); // a client that went away fails here and ends the stream
      if (next.isPresent()) {
        next = ctx.stats().nextReading(r, after);
      }
      if (next.isEmpty()) {
        // as dockerd's collector: a container that does not run gets empty stats each interval
        Thread.sleep(StatsService.INTERVAL);
        next = running(r);
      }
    }
  }

  /** The VM's reading when it runs (the stats service's 409 otherwise means: empty stats). */
  private Optional<StatsService.Reading> running(VmRecord r) throws InterruptedException {
    VmRecord now = ctx.vms().resolve(r.id());
    if (!now.state().live()) {
      return Optional.empty();
    }
    try {
      return Optional.of(ctx.stats().reading(now));
    } catch (ApiException e) {
      if (e.status() == 409) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /**
   * Docker's StatsJSON from a reading: CPU counters in nanoseconds, the guest's CPU time (busy +
   * idle of all vCPUs) as the system's, so the CLIs' Δ total / Δ system × online CPUs × 100 gives
   * the stats service's CPU %.
   */
  private JsonNode shape(VmRecord r, StatsService.Reading x, boolean withPrevious) {
    VmStats f = x.figures();
    StatsSample last = x.last();
    StatsSample prev = withPrevious ? x.previous() : null;
    ObjectNode o = empty(r);
    o.put("read", DockerTime.format(f.readAt()));
    if (prev != null) {
      // the guest's clock spaces the two readings; dockerd's preread is the previous read time
      o.put(
          "preread", DockerTime.format(f.readAt().minusNanos(last.timeNanos() - prev.timeNanos())));
    }
    if (f.pids() > 0) {
      o.putObject("pids_stats").put("current", f.pids());
    }
    ArrayNode io = ((ObjectNode) o.get("blkio_stats")).putArray("io_service_bytes_recursive");
    io.addObject()
        .put("major", 0)
        .put("minor", 0)
        .put("op", "read")
        .put("value", f.blockReadBytes());
    io.addObject()
        .put("major", 0)
        .put("minor", 0)
        .put("op", "write")
        .put("value", f.blockWriteBytes());
    cpu(o.putObject("cpu_stats"), last, f.cpus());
    cpu(o.putObject("precpu_stats"), prev, f.cpus());
    ObjectNode mem = o.putObject("memory_stats");
    if (last != null) {
      mem.put("usage", f.memoryUsageBytes());
    }
    mem.put("limit", f.memoryLimitBytes());
    if (!"none".equals(r.request().network())) {
      ObjectNode n = o.putObject("networks").putObject(INTERFACE);
      n.put("rx_bytes", f.netRxBytes()).put("rx_packets", 0).put("rx_errors", 0);
      n.put("rx_dropped", 0).put("tx_bytes", f.netTxBytes()).put("tx_packets", 0);
      n.put("tx_errors", 0).put("tx_dropped", 0);
    }
    return o;
  }

  /** cpu_stats from one raw reading (zeros without one, as dockerd's first precpu_stats). */
  private static void cpu(ObjectNode c, StatsSample s, int cpus) {
    ObjectNode usage = c.putObject("cpu_usage");
    usage.put("total_usage", s == null ? 0 : s.busyMillis() * NANOS_PER_MILLI);
    usage.put("usage_in_kernelmode", 0).put("usage_in_usermode", 0);
    if (s != null) {
      c.put("system_cpu_usage", (s.busyMillis() + s.idleMillis()) * NANOS_PER_MILLI);
      c.put("online_cpus", cpus);
    }
    c.putObject("throttling_data")
        .put("periods", 0)
        .put("throttled_periods", 0)
        .put("throttled_time", 0);
  }

  /**
   * Go's zero StatsJSON with name and id, every field in dockerd's order: dockerd's answer for a
   * container that does not run, and what {@code shape} fills.
   */
  private ObjectNode empty(VmRecord r) {
    ObjectNode o = ctx.json().createObjectNode();
    o.put("read", DockerTime.ZERO);
    o.put("preread", DockerTime.ZERO);
    o.putObject("pids_stats");
    ObjectNode blkio = o.putObject("blkio_stats");
    for (String k :
        List.of(
            "io_service_bytes_recursive",
            "io_serviced_recursive",
            "io_queue_recursive",
            "io_service_time_recursive",
            "io_wait_time_recursive",
            "io_merged_recursive",
            "io_time_recursive",
            "sectors_recursive")) {
      blkio.putNull(k);
    }
    o.put("num_procs", 0);
    o.putObject("storage_stats");
    cpu(o.putObject("cpu_stats"), null, 0);
    cpu(o.putObject("precpu_stats"), null, 0);
    o.putObject("memory_stats");
    o.put("name", "/" + r.name());
    o.put("id", r.id());
    return o;
  }

  /**
   * {@code ps_args} the guest can honour ({@code -ef}, the default) or 400 naming it: the guest has
   * no {@code ps}; its init lists processes as {@code ps -ef} does.
   */
  private void top(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    String args = ex.query("ps_args") == null ? "" : ex.query("ps_args").trim();
    if (!PS_ARGS.contains(args)) {
      throw ApiException.badRequest(
          "ps_args \""
              + args
              + "\" is not supported: the VM has no ps; its processes are listed as ps -ef"
              + " lists them (run docker top without ps options)");
    }
    if (r.state() == VmState.PAUSED) {
      throw ApiException.conflict(
          "Container "
              + r.id()
              + " is paused: its processes are listed by the guest, which is frozen (unpause it"
              + " first)");
    }
    if (!r.state().live()) {
      throw ApiException.conflict("Container " + r.id() + " is not running");
    }
    ex.send(200, ctx.json().readTree(GuestSessions.top(ctx.vms().guest(r))));
  }
}
