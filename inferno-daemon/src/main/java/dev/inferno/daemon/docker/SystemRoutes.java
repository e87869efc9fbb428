package dev.inferno.daemon.docker;

import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.model.Event;
import dev.inferno.model.VmState;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Docker API routes: _ping, version, info, events (owner: docker system). */
final class SystemRoutes {
  /** How long an idle events stream waits before a newline that finds a client gone. */
  private static final long WAKE_MILLIS = 5000;

  private final DockerContext ctx;

  SystemRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of(
        new Route("GET", "/_ping", ex -> ping(ex, true)),
        new Route("HEAD", "/_ping", ex -> ping(ex, false)),
        new Route("GET", "/version", this::version),
        new Route("GET", "/info", this::info),
        new Route("GET", "/events", this::events));
  }

  private static void ping(Exchange ex, boolean body) throws IOException {
    // dockerd's: clients must not cache a ping (they re-read Api-Version from it)
    ex.header("Cache-Control", "no-cache, no-store, must-revalidate");
    ex.header("Pragma", "no-cache");
    ex.header("Builder-Version", "1"); // no BuildKit: builds are not served
    if (!body) {
      ex.header("Content-Type", "text/plain; charset=utf-8");
      ex.sendEmpty(200);
      return;
    }
    ex.header("Content-Length", "2");
    try (OutputStream out = ex.stream("text/plain; charset=utf-8")) {
      out.write("OK".getBytes(StandardCharsets.US_ASCII));
    }
  }

  /** Docker's arch name (Go's GOARCH) for the JVM's. */
  static String goArch() {
    return switch (System.getProperty("os.arch")) {
      case "amd64", "x86_64" -> "amd64";
      case "aarch64" -> "arm64";
      case String other -> other;
    };
  }

  /** The kernel's machine name, as dockerd's Info.Architecture (uname -m). */
  static String machine() {
    return switch (goArch()) {
      case "amd64" -> "x86_64";
      case "arm64" -> "aarch64";
      case String other -> other;
    };
  }

  private void version(Exchange ex) throws IOException {
    String kernel = System.getProperty("os.version");
    String runtime = "java" + System.getProperty("java.version");
    String version = DockerApi.engineVersion(ctx.facts().version());
    ex.send(
        200,
        new SystemShapes.Version(
            new SystemShapes.Platform("inferno"),
            List.of(
                new SystemShapes.Component(
                    "Engine",
                    version,
                    new SystemShapes.ComponentDetails(
                        DockerApi.MAX_VERSION,
                        goArch(),
                        "",
                        "false",
                        "",
                        runtime,
                        kernel,
                        DockerApi.MIN_VERSION,
                        "linux"))),
            version,
            DockerApi.MAX_VERSION,
            DockerApi.MIN_VERSION,
            "",
            runtime,
            "linux",
            goArch(),
            kernel,
            ""));
  }

  private void info(Exchange ex) throws IOException {
    List<VmRecord> all = ctx.vms().list(true);
    int running = count(all, VmState.RUNNING) + count(all, VmState.RESTARTING);
    int paused = count(all, VmState.PAUSED);
    int images = ctx.images().count();
    List<String> warnings =
        ctx.vms().backend().kvm()
            ? List.of()
            : List.of("WARNING: /dev/kvm is not usable: microVMs run emulated and slowly");
    String vmm = ctx.facts().vmm();
    ex.send(
        200,
        new SystemShapes.Info(
            ctx.daemonId(),
            all.size(),
            running,
            paused,
            all.size() - running - paused,
            Math.max(images, 0),
            "inferno-ext4",
            List.of(List.of("Backing", "read-only ext4 image disks")),
            new SystemShapes.Plugins(List.of("local"), List.of(), List.of()),
            true,
            false,
            false,
            false,
            true,
            false,
            Instant.now().toString(),
            "inferno",
            "none",
            "2",
            0,
            System.getProperty("os.version"),
            osName(),
            osVersion(),
            "linux",
            machine(),
            "https://index.docker.io/v1/",
            new SystemShapes.RegistryConfig(List.of(), Map.of(), List.of()),
            Runtime.getRuntime().availableProcessors(),
            memTotal(),
            ctx.facts().stateDir(),
            "",
            "",
            "",
            hostname(),
            List.of(),
            false,
            DockerApi.engineVersion(ctx.facts().version()),
            Map.of(vmm, new SystemShapes.Runtime(vmm)),
            vmm,
            new SystemShapes.Swarm("", "", "inactive", false, "", null),
            false,
            "",
            "",
            new SystemShapes.Commit("", ""),
            new SystemShapes.Commit("", ""),
            new SystemShapes.Commit("", ""),
            List.of("name=microvm"),
            warnings));
  }

  private static int count(List<VmRecord> all, VmState s) {
    return (int) all.stream().filter(v -> v.state() == s).count();
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }

  /** /etc/os-release's field, or null. */
  private static String osRelease(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/etc/os-release"))) {
        if (line.startsWith(key + "=")) {
          return line.substring(key.length() + 1).replace("\"", "");
        }
      }
    } catch (IOException e) {
      // not every host has it: dockerd then says what the kernel is
    }
    return null;
  }

  private static String osName() {
    String n = osRelease("PRETTY_NAME");
    return n != null ? n : "Linux";
  }

  private static String osVersion() {
    String v = osRelease("VERSION_ID");
    return v != null ? v : "";
  }

  /** MemTotal of /proc/meminfo in bytes (0 when unreadable). */
  static long memTotal() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          String[] f = line.trim().split("\\s+");
          return Long.parseLong(f[1]) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // reported as 0, as dockerd does when it cannot read it
    }
    return 0;
  }

  /**
   * Docker's events: past ones (the bus remembers the last 1000) from {@code since}, then live ones
   * until {@code until} has passed or the client goes; {@code filters} as {@link DockerEvents}.
   */
  private void events(Exchange ex) throws Exception {
    DockerFilters filters =
        DockerFilters.parse(ex.query("filters"), ctx.json(), DockerEvents.FILTERS);
    Instant since = ex.time("since");
    Instant until = ex.time("until");
    if (since != null && until != null && until.isBefore(since)) {
      throw ApiException.badRequest("until is before since: give until after since");
    }
    Map<String, VmRecord> seen = new HashMap<>();
    // subscribed before the 200 goes out: a client that saw it misses no event after it
    try (var sub = ctx.vms().events().subscribe(since == null ? Long.MAX_VALUE : 0)) {
      OutputStream out = ex.stream("application/json");
      out.flush();
      while (true) {
        long wait = WAKE_MILLIS;
        if (until != null) {
          wait = Math.max(1, Math.min(wait, Duration.between(Instant.now(), until).toMillis()));
        }
        Event e = sub.next(wait);
        if (e == null) {
          if (until != null && !Instant.now().isBefore(until)) {
            return;
          }
          out.write('\n'); // JSON decoders skip it; a write is how a gone client shows
          out.flush();
          continue;
        }
        if (until != null && e.time().isAfter(until)) {
          return;
        }
        if (since != null && e.time().isBefore(since)) {
          continue;
        }
        SystemShapes.Event d = DockerEvents.of(e, id -> lookup(seen, id));
        if (d != null && DockerEvents.admits(d, filters)) {
          out.write(ctx.json().writeValueAsBytes(d));
          out.write('\n');
          out.flush();
        }
      }
    }
  }

  /** The VM an event names, remembered for its later events (a removed VM keeps its image). */
  private VmRecord lookup(Map<String, VmRecord> seen, String id) {
    return seen.computeIfAbsent(
        id,
        k -> {
          try {
            return ctx.vms().resolve(k);
          } catch (ApiException e) {
            return null;
          }
        });
  }
}
