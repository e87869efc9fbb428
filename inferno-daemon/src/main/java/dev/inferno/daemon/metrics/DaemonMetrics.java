package dev.inferno.daemon.metrics;

import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.stats.StatsService;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.model.Event;
import dev.inferno.model.VmState;
import dev.inferno.model.VmStats;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The daemon's Prometheus metrics ({@code inferno server --metrics-addr}): per VM (labels id, name)
 * its state, CPU seconds, memory, log bytes; for the daemon the VMs by state, boots and their time,
 * pulls and their bytes, stop escalations and API errors. Per-VM figures are read when scraped (the
 * stats sampler's latest readings); the daemon's counters follow its event stream, so the code that
 * does the work needs no hook of its own beyond the event it publishes anyway.
 */
public final class DaemonMetrics implements AutoCloseable {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final VmService vms;
  private final StatsService stats;
  private final ImageBackend images;
  private final Counter boots;
  private final Histogram bootSeconds;
  private final Counter pulls;
  private final Counter pullBytes;
  private final Counter stopEscalations;
  private final Counter apiErrors;

  /** When each VM being started was created (its boot time ends at "started"). */
  private final Map<String, Instant> starting = new ConcurrentHashMap<>();

  private HTTPServer server;

  public DaemonMetrics(VmService vms, StatsService stats, ImageBackend images) {
    this.vms = vms;
    this.stats = stats;
    this.images = images;
    boots =
        Counter.builder()
            .name("inferno_vm_boots_total")
            .help("VMs booted (started, or started again) by this daemon")
            .register(registry);
    bootSeconds =
        Histogram.builder()
            .name("inferno_vm_boot_seconds")
            .help("From a VM's creation until its VMM runs (the guest's boot excluded)")
            .classicOnly()
            .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
            .register(registry);
    pulls =
        Counter.builder()
            .name("inferno_image_pulls_total")
            .help("Images pulled from a registry")
            .register(registry);
    pullBytes =
        Counter.builder()
            .name("inferno_image_pull_bytes_total")
            .help("Stored size of the images pulled")
            .register(registry);
    stopEscalations =
        Counter.builder()
            .name("inferno_vm_stop_escalations_total")
            .help("Stops that ended in a kill: the VM did not stop within its timeout")
            .register(registry);
    apiErrors =
        Counter.builder()
            .name("inferno_api_errors_total")
            .help("API requests answered with an error, by status")
            .labelNames("status")
            .register(registry);
    GaugeWithCallback.builder()
        .name("inferno_vms")
        .help("VMs by state")
        .labelNames("state")
        .callback(cb -> {
          Map<VmState, Integer> n = new EnumMap<>(VmState.class);
          for (VmState s : VmState.values()) {
            n.put(s, 0);
          }
          for (VmRecord r : vms.list(true)) {
            n.merge(r.state(), 1, Integer::sum);
          }
          n.forEach((s, c) -> cb.call(c, wire(s)));
        })
        .register(registry);
    GaugeWithCallback.builder()
        .name("inferno_vm_state")
        .help("1 for the state each VM is in")
        .labelNames("id", "name", "state")
        .callback(cb -> {
          for (VmRecord r : vms.list(true)) {
            cb.call(1, r.id(), r.name(), wire(r.state()));
          }
        })
        .register(registry);
    CounterWithCallback.builder()
        .name("inferno_vm_cpu_seconds_total")
        .help("CPU time the guest spent busy (user + system) since it booted")
        .labelNames("id", "name")
        .callback(cb -> running().forEach(s -> cb.call(s.cpuSeconds(), s.id(), s.name())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("inferno_vm_memory_bytes")
        .help("Memory in use in the guest (as docker stats counts it)")
        .labelNames("id", "name")
        .callback(cb -> running().forEach(s -> cb.call(s.memoryUsageBytes(), s.id(), s.name())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("inferno_vm_memory_limit_bytes")
        .help("The VM's memory")
        .labelNames("id", "name")
        .callback(cb -> running().forEach(s -> cb.call(s.memoryLimitBytes(), s.id(), s.name())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("inferno_vm_log_bytes")
        .help("Bytes the VM's stored logs take")
        .labelNames("id", "name")
        .callback(cb -> {
          for (VmRecord r : vms.list(true)) {
            OptionalLong b = vms.backend().logBytes(r.id());
            if (b.isPresent()) {
              cb.call(b.getAsLong(), r.id(), r.name());
            }
          }
        })
        .register(registry);
    CounterWithCallback.builder()
        .name("inferno_vm_restarts_total")
        .help("Restarts by the VM's restart policy since it was last started by hand")
        .labelNames("id", "name")
        .callback(cb -> {
          for (VmRecord r : vms.list(true)) {
            cb.call(r.restart().count(), r.id(), r.name());
          }
        })
        .register(registry);
    vms.events().listen(this::event);
  }

  private List<VmStats> running() {
    return vms.list(false).stream().flatMap(r -> stats.latest(r).stream()).toList();
  }

  private static String wire(VmState s) {
    return s.name().toLowerCase(Locale.ROOT);
  }

  private void event(Event e) {
    switch (e.type()) {
      case "created" -> starting.put(e.id(), e.time());
      case "started" -> {
        boots.inc();
        Instant created = starting.remove(e.id());
        if (created != null) {
          bootSeconds.observe(Duration.between(created, e.time()).toNanos() / 1e9);
        }
      }
      case "exited", "removed" -> starting.remove(e.id());
      case "pulled" -> {
        pulls.inc();
        String ref = e.id();
        // the size comes from the image store: looked up off the publishing thread
        Thread.ofVirtual()
            .start(() -> images.find(ref).ifPresent(i -> pullBytes.inc(i.sizeBytes())));
      }
      case "kill" -> stopEscalations.inc();
      default -> {}
    }
  }

  /** Counts an API error response; the API handler's hook. */
  public void apiError(int status) {
    apiErrors.labelValues(Integer.toString(status)).inc();
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /**
   * Serves {@code /metrics} on {@code addr} (HOST:PORT; port 0 picks one).
   *
   * @return the address it listens on
   */
  public InetSocketAddress serve(String addr) throws IOException {
    int colon = addr.lastIndexOf(':');
    String host = addr.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = Integer.parseInt(addr.substring(colon + 1));
    server =
        HTTPServer.builder()
            .hostname(host.isEmpty() ? "0.0.0.0" : host)
            .port(port)
            .registry(registry)
            .buildAndStart();
    return new InetSocketAddress(host.isEmpty() ? "0.0.0.0" : host, server.getPort());
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
  }
}
