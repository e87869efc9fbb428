import dev.inferno.daemon.Daemon;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.backend.LaunchSpec;
import dev.inferno.daemon.backend.LogQuery;
import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.daemon.backend.VmBackend;
import dev.inferno.daemon.backend.VmHandle;
import dev.inferno.daemon.config.ConfigFile;
import dev.inferno.daemon.network.Ipv4Cidr;
import dev.inferno.daemon.network.Nftables;
import dev.inferno.daemon.network.VmNetworks;
import dev.inferno.daemon.testing.MemoryImageBackend;
import dev.inferno.kiln.exec.ExecProcess;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.HealthConfig;
import dev.inferno.model.RunRequest;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon's own cost per running VM of stats and health checks (issue 12): a real daemon (SQLite,
 * VmService, StatsService's sampler, HealthService's monitors, /metrics scraped every second) runs
 * N VMs of an in-memory backend whose guests answer at once (a METRICS report that changes every
 * second; a health check that exits 0 with a line of output), so what grows is the daemon's side
 * alone. Mode "off": the same VMs with no reports and no health check, no /metrics (the baseline).
 * Heap after GC and RSS growth over N VMs after 5 warm-up VMs, after the checks ran long enough to
 * fill their result logs.
 *
 * <p>Usage: java … ObserveBench.java on|off N DIR
 */
public class ObserveBench {
  public static void main(String[] args) throws Exception {
    boolean on = args[0].equals("on");
    int n = Integer.parseInt(args[1]);
    Path dir = Path.of(args[2]);
    Files.createDirectories(dir);
    Map<String, String> s = ConfigFile.read(null);
    s.put("state-dir", dir.resolve("state").toString());
    s.put("socket", dir.resolve("inferno.sock").toString());
    if (on) {
      s.put("metrics-addr", "127.0.0.1:0");
    }
    FakeBackend backend = new FakeBackend(on);
    String table = "inferno_obsbench_" + ProcessHandle.current().pid();
    VmNetworks.Settings net =
        VmNetworks.Settings.of(
            new Nftables.Config(
                table,
                Ipv4Cidr.parse("10.218.0.0/16"),
                "iobb",
                false));
    Daemon d =
        Daemon.start(
            ConfigFile.build(s),
            new MemoryImageBackend().publish("busybox", List.of("sh")),
            backend,
            PeerPolicy.ALLOW_ALL,
            net);
    HealthConfig check =
        on ? new HealthConfig(List.of("CMD-SHELL", "true"), 1_000_000_000L, null, null, null) : null;
    Thread scraper = on ? Thread.ofVirtual().start(() -> scrape(d)) : null;
    for (int i = 0; i < 5; i++) {
      run(d, "warm" + i, check);
    }
    Thread.sleep(7000);
    long heap0 = heapAfterGc();
    long rss0 = rssKib();
    for (int i = 0; i < n; i++) {
      run(d, "vm" + i, check);
    }
    // 7 s: every check ran 6+ times (its log of 5 is full), the sampler holds two readings per VM
    Thread.sleep(7000);
    long heap1 = heapAfterGc();
    long rss1 = rssKib();
    int running = d.vms().runningIds().size();
    System.out.printf(
        "stats+health %s: %d running VMs, checks run %d: heap +%.1f KiB/VM, RSS +%.1f KiB/VM%n",
        on ? "on " : "off", running, backend.checks.get(), (heap1 - heap0) / 1024.0 / n,
        (rss1 - rss0) / (double) n);
    if (scraper != null) {
      scraper.interrupt();
    }
    backend.exitAll();
    d.close();
    // a daemon's table outlives it by design (running VMs keep their rules); this one is gone
    new ProcessBuilder("nft", "delete", "table", "inet", table)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start()
        .waitFor();
    System.exit(0);
  }

  static void run(Daemon d, String name, HealthConfig check) {
    d.vms()
        .create(
            RunRequest.builder("busybox")
                .name(name)
                .cmd(List.of("sleep", "1d"))
                .network("none")
                .healthcheck(check)
                .build(),
            false);
  }

  static void scrape(Daemon d) {
    try (HttpClient http = HttpClient.newHttpClient()) {
      URI uri = URI.create("http://127.0.0.1:" + d.metricsAddress().getPort() + "/metrics");
      while (true) {
        http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding());
        Thread.sleep(1000);
      }
    } catch (Exception e) {
      // interrupted: done
    }
  }

  static long rssKib() throws Exception {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  static long heapAfterGc() throws Exception {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** VMs that are only handles: their guest reports and answers checks at once. */
  static final class FakeBackend implements VmBackend {
    final boolean guests;
    final AtomicInteger checks = new AtomicInteger();
    final Map<String, FakeVm> vms = new ConcurrentHashMap<>();

    FakeBackend(boolean guests) {
      this.guests = guests;
    }

    @Override
    public VmHandle start(LaunchSpec spec) {
      FakeVm vm = new FakeVm(spec.id(), Instant.now(), this);
      vms.put(spec.id(), vm);
      return vm;
    }

    @Override
    public VmHandle startAgain(LaunchSpec spec) {
      return start(spec); // the bench boots each VM once
    }

    void exitAll() {
      vms.values().forEach(v -> v.exit.complete(new ExitRecord(0, null, false, null, Instant.now())));
    }

    @Override
    public Adoption adopt(String id) {
      return new Adoption.Vanished("bench");
    }

    @Override
    public void logs(String id, LogQuery q, FrameSink sink) {}

    @Override
    public void remove(String id) {
      vms.remove(id);
    }

    @Override
    public String defaultVmm() {
      return "fake";
    }

    @Override
    public boolean kvm() {
      return false;
    }
  }

  static final class FakeVm implements VmHandle, GuestExec {
    final String id;
    final Instant startedAt;
    final FakeBackend backend;
    final CompletableFuture<ExitRecord> exit = new CompletableFuture<>();

    FakeVm(String id, Instant startedAt, FakeBackend backend) {
      this.id = id;
      this.startedAt = startedAt;
      this.backend = backend;
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public long pid() {
      return 1;
    }

    @Override
    public String vmm() {
      return "fake";
    }

    @Override
    public Instant startedAt() {
      return startedAt;
    }

    @Override
    public CompletableFuture<ExitRecord> exit() {
      return exit;
    }

    @Override
    public void stop(String signal, int graceSeconds) {
      exit.complete(new ExitRecord(0, null, false, null, Instant.now()));
    }

    @Override
    public void kill(String signal) {
      stop(signal, 0);
    }

    /** A new report every second, as init sends them (a fresh record each time, as kiln parses). */
    @Override
    public Optional<StatsSample> stats() {
      if (!backend.guests) {
        return Optional.empty();
      }
      long sec = System.currentTimeMillis() / 1000;
      return Optional.of(
          new StatsSample(sec * 1_000_000_000L, sec * 10, sec * 990, 256L << 20, 200L << 20, 0,
              sec, sec, sec, sec, 3));
    }

    @Override
    public Optional<GuestExec> exec() {
      return backend.guests ? Optional.of(this) : Optional.empty();
    }

    @Override
    public OutputStream mainStdin() {
      return OutputStream.nullOutputStream();
    }

    @Override
    public void resizeMain(int rows, int cols) {}

    @Override
    public ExecProcess open(ExecRequest request) {
      backend.checks.incrementAndGet();
      return new ExecProcess() {
        boolean read;

        @Override
        public int session() {
          return 1;
        }

        @Override
        public int pid() {
          return 2;
        }

        @Override
        public OutputStream stdin() {
          return OutputStream.nullOutputStream();
        }

        @Override
        public synchronized Output read() {
          if (read) {
            return null;
          }
          read = true;
          return new Output(1, "ok\n".getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void resize(int rows, int cols) {}

        @Override
        public void signal(int signal) {}

        @Override
        public CompletableFuture<ExitReport> exit() {
          return CompletableFuture.completedFuture(new ExitReport(0, null, false, 0, 0, null));
        }

        @Override
        public void close() {}
      };
    }
  }
}
