package dev.inferno.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.api.ApiHandler;
import dev.inferno.daemon.api.ApiJson;
import dev.inferno.daemon.api.ApiServer;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.api.Routes;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.VmBackend;
import dev.inferno.daemon.config.DaemonConfig;
import dev.inferno.daemon.docker.DockerApi;
import dev.inferno.daemon.docker.DockerContext;
import dev.inferno.daemon.docker.DockerJson;
import dev.inferno.daemon.health.HealthService;
import dev.inferno.daemon.images.ImageOps;
import dev.inferno.daemon.metrics.DaemonMetrics;
import dev.inferno.daemon.network.VmNetworks;
import dev.inferno.daemon.stats.StatsRoutes;
import dev.inferno.daemon.stats.StatsService;
import dev.inferno.daemon.store.Database;
import dev.inferno.daemon.store.VmStore;
import dev.inferno.daemon.vm.Defaults;
import dev.inferno.daemon.vm.EventBus;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.daemon.volume.VolumeService;
import dev.inferno.daemon.volume.VolumeStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/** A running daemon: database, services and the API server, wired from a config and backends. */
public final class Daemon implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Daemon.class.getName());
  public static final String VERSION = "0.1.0";

  private final Database db;
  private final VmService vms;
  private final ApiServer server;
  private final ApiHandler handler;

  private Observe observe;
  private ApiServer docker;

  private Daemon(Database db, VmService vms, ApiServer server, ApiHandler handler) {
    this.db = db;
    this.vms = vms;
    this.server = server;
    this.handler = handler;
  }

  /** The Docker API's socket when docker-socket is set: same group and peers as the API's. */
  private static ApiServer startDocker(
      DaemonConfig cfg, VmService vms, Routes routes, Observe observe, PeerPolicy peers)
      throws Exception {
    if (cfg.dockerSocket() == null) {
      return null;
    }
    DockerContext ctx =
        new DockerContext(
            vms,
            routes.images(),
            routes.execs(),
            routes.facts(),
            observe.health()::health,
            observe.stats(),
            DockerJson.mapper());
    ApiHandler h = DockerApi.handler(ctx, peers, cfg.maxBodyBytes());
    if (observe.metrics() != null) {
      h.onError(observe.metrics()::apiError);
    }
    ApiServer s = ApiServer.start(cfg.dockerSocket(), cfg.socketGroup(), h);
    LOG.info("Docker Engine API " + DockerApi.MAX_VERSION + " on " + cfg.dockerSocket());
    return s;
  }

  /** Stats, health checks and /metrics (when metrics-addr is set), started before reconcile. */
  private record Observe(
      StatsService stats, HealthService health, DaemonMetrics metrics, InetSocketAddress addr)
      implements AutoCloseable {
    static Observe start(DaemonConfig cfg, VmService vms, ImageBackend images) throws IOException {
      StatsService stats = new StatsService(vms);
      HealthService health = new HealthService(vms); // before reconcile: re-adopted VMs get checks
      DaemonMetrics metrics = null;
      InetSocketAddress addr = null;
      if (cfg.metricsAddr() != null) {
        metrics = new DaemonMetrics(vms, stats, images);
        addr = metrics.serve(cfg.metricsAddr());
        LOG.info("Prometheus metrics on http://" + cfg.metricsAddr() + "/metrics");
      }
      return new Observe(stats, health, metrics, addr);
    }

    void wire(Routes routes, ApiHandler handler) {
      routes.healthFrom(health::health);
      if (metrics != null) {
        handler.onError(metrics::apiError);
      }
    }

    @Override
    public void close() {
      if (metrics != null) {
        metrics.close();
      }
      health.close();
      stats.close();
    }
  }

  /** The Docker API's socket, or null when docker-socket is off. */
  public java.nio.file.Path dockerSocket() {
    return docker == null ? null : docker.socket();
  }

  /** Where /metrics is served, or null when metrics-addr is off. */
  public InetSocketAddress metricsAddress() {
    return observe.addr();
  }

  public static Daemon start(
      DaemonConfig cfg, ImageBackend images, VmBackend backend, PeerPolicy peers) throws Exception {
    return start(cfg, images, backend, peers, VmNetworks.Settings.of(cfg.network()));
  }

  /** As above, with the host side of the VMs' network named by {@code net} (tests isolate it). */
  public static Daemon start(
      DaemonConfig cfg,
      ImageBackend images,
      VmBackend backend,
      PeerPolicy peers,
      VmNetworks.Settings net)
      throws Exception {
    Files.createDirectories(cfg.stateDir());
    Database db = Database.open(cfg.database());
    VmNetworks networks = null;
    VolumeStore volumeStore = null;
    Observe observe = null;
    try {
      ObjectMapper json = ApiJson.mapper();
      EventBus events = new EventBus();
      VmStore store = new VmStore(db, json);
      networks = new VmNetworks(store, net);
      networks.checkPool();
      VmService vms =
          new VmService(
              store,
              images,
              backend,
              events,
              new Defaults(
                  cfg.defaultCpus(), cfg.defaultMemoryBytes(), cfg.vmm(), cfg.stopTimeoutSeconds()),
              networks);
      observe = Observe.start(cfg, vms, images);
      volumeStore = new VolumeStore(cfg.database(), json);
      VolumeService volumes =
          new VolumeService(volumeStore, store, cfg.volumes(), cfg.volumeSizeBytes(), events);
      vms.useVolumes(volumes);
      for (String line : vms.reconcile()) {
        LOG.info("reconcile: " + line);
      }
      // after reconcile: the VMs still up hold their volumes; before restoreNetworks, which lets
      // the restarts reconcile scheduled run (they claim volumes at boot)
      volumes.restoreClaims();
      for (String line : vms.restoreNetworks()) {
        LOG.info("network: " + line);
      }
      String vmm = cfg.vmm().equals("auto") ? backend.defaultVmm() : cfg.vmm();
      Routes routes =
          new Routes(
              vms,
              new ImageOps(images, vms, events),
              new Routes.SystemFacts(
                  VERSION, vmm, cfg.kernel().toString(), cfg.stateDir().toString()));
      List<Route> all = new ArrayList<>(routes.all());
      all.addAll(new StatsRoutes(vms, observe.stats()).all());
      ApiHandler handler = new ApiHandler(all, json, peers, cfg.maxBodyBytes());
      observe.wire(routes, handler);
      ApiServer server = ApiServer.start(cfg.socket(), cfg.socketGroup(), handler);
      LOG.info("inferno " + VERSION + " listening on " + cfg.socket());
      Daemon d = new Daemon(db, vms, server, handler);
      d.observe = observe;
      try {
        d.docker = startDocker(cfg, vms, routes, observe, peers);
      } catch (Exception e) {
        server.close();
        throw e;
      }
      return d;
    } catch (Exception e) {
      if (observe != null) {
        observe.close();
      }
      if (networks != null) {
        networks.close();
      }
      if (volumeStore != null) {
        volumeStore.close();
      }
      db.close();
      throw e;
    }
  }

  public VmService vms() {
    return vms;
  }

  public ApiHandler handler() {
    return handler;
  }

  public void join() throws InterruptedException {
    server.join();
  }

  /** Serves until the JVM is told to exit (SIGTERM, SIGINT), then closes: what `server` runs. */
  public void serveUntilExit() throws InterruptedException {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> {
              try {
                close();
              } catch (Exception e) {
                // exiting anyway
              }
            }));
    join();
  }

  /** Stops serving; running VMs keep running (they are re-adopted at the next start). */
  @Override
  public void close() throws Exception {
    try {
      vms.events().shutdown();
      observe.close();
      vms.close(); // pending restarts: the next start picks them up from the database
      if (docker != null) {
        docker.close();
      }
      server.close();
      vms.networks().close();
      if (vms.volumes() != null) {
        vms.volumes().close();
      }
    } finally {
      db.close();
    }
  }
}
