package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.model.json.Json;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * stats, /metrics and health checks on real guests (QEMU TCG, the real kernel and init of build/):
 * the figures come from init's METRICS reports, the checks run as execs in the guest.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ObserveGuestTest {
  static final String IMAGE = "busybox:latest";
  @TempDir static Path dir;
  Inferno inferno;
  int metricsPort;

  @BeforeAll
  void start() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      metricsPort = s.getLocalPort();
    }
    // a network of its own (later keys win): test runs of other worktrees use Inferno's
    inferno =
        Inferno.startGuests(
            dir,
            "network-table = inferno_obs_e2e\nnetwork-tap-prefix = ioe\nnetwork-pool = 10.219.0.0/16\n"
                + "metrics-addr = 127.0.0.1:"
                + metricsPort
                + "\n");
    inferno.loadBusybox(IMAGE);
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.removeAllAndClose();
    }
  }

  Map<String, Object> stats(String vm) throws Exception {
    var r = inferno.run("stats", "--no-stream", "--format", "json", vm);
    assertThat(r.code()).as(r.toString()).isZero();
    return Json.parseObject(r.out().strip());
  }

  Map<String, Object> awaitStats(String vm, Predicate<Map<String, Object>> ok, String what)
      throws Exception {
    long end = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    Map<String, Object> s = stats(vm);
    while (!ok.test(s)) {
      assertThat(System.nanoTime()).as(what + ", last reading " + s).isLessThan(end);
      Thread.sleep(1000);
      s = stats(vm);
    }
    return s;
  }

  static long num(Map<String, Object> m, String k) {
    return ((Number) m.get(k)).longValue();
  }

  @Test
  void statsFiguresMoveWhenTheGuestAllocatesMemoryAndBurnsCpuAndMetricsParse() throws Exception {
    var d = inferno.run("run", "-d", "--name", "busy", "-m", "512m", IMAGE, "sleep", "3600");
    assertThat(d.code()).as(d.toString()).isZero();
    String id = d.out().strip();
    // idle: two reports in, a low CPU %
    Map<String, Object> idle =
        awaitStats("busy", s -> s.get("cpuPercent") != null && num(s, "pids") >= 2, "two reports");
    assertThat(num(idle, "memoryLimitBytes")).isEqualTo(512L << 20);
    long memBefore = num(idle, "memoryUsageBytes");
    assertThat(memBefore).isPositive();

    // a 64 MiB string held, then a busy loop: memory and CPU % rise, one more process
    var burn =
        inferno.run(
            "exec",
            "-d",
            "busy",
            "awk",
            "BEGIN { s = \"x\"; while (length(s) < 64 * 1024 * 1024) s = s s; while (1) {} }");
    assertThat(burn.code()).as(burn.toString()).isZero();
    Map<String, Object> hot =
        awaitStats(
            "busy",
            s ->
                num(s, "memoryUsageBytes") >= memBefore + (48L << 20)
                    && s.get("cpuPercent") != null
                    && ((Number) s.get("cpuPercent")).doubleValue() > 50,
            "memory +48 MiB and CPU above 50 %");
    assertThat(num(hot, "pids")).isGreaterThan(num(idle, "pids"));
    assertThat(((Number) hot.get("cpuSeconds")).doubleValue())
        .isGreaterThan(((Number) idle.get("cpuSeconds")).doubleValue());

    var table = inferno.run("stats", "--no-stream", "busy");
    assertThat(table.out()).startsWith("VM ID").contains("MEM USAGE / LIMIT").contains("busy");

    // /metrics: the same VM through the Prometheus text parser
    String text;
    try (HttpClient http = HttpClient.newHttpClient()) {
      text =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
    }
    String parsed =
        run(
            text,
            "/usr/bin/python3",
            "-c",
            """
            import sys
            from prometheus_client.parser import text_string_to_metric_families as f
            for m in f(sys.stdin.read()):
              for s in m.samples:
                print(s.name, s.labels.get('name', ''), s.value)
            """);
    assertThat(parsed)
        .containsPattern("inferno_vm_memory_bytes busy [0-9.e+]+")
        .containsPattern("inferno_vm_cpu_seconds_total busy [0-9.e+]+")
        .contains("inferno_vm_state busy 1.0")
        .containsPattern("inferno_vm_log_bytes busy [0-9.e+]+")
        .containsPattern("inferno_vm_boots_total  [1-9][0-9]*\\.0");
    assertThat(id).hasSize(16);
  }

  @SuppressWarnings("unchecked")
  String health(String vm) throws Exception {
    var r = inferno.run("inspect", vm);
    assertThat(r.code()).as(r.toString()).isZero();
    Object detail = Json.parse(r.out());
    Map<String, Object> d =
        detail instanceof List<?> l
            ? (Map<String, Object>) l.getFirst()
            : (Map<String, Object>) detail;
    Map<String, Object> h = (Map<String, Object>) d.get("health");
    return h == null ? null : (String) h.get("status");
  }

  void awaitHealth(String vm, String want) throws Exception {
    long end = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    String now = health(vm);
    while (!want.equals(now)) {
      assertThat(System.nanoTime())
          .as(vm + " never became " + want + " (" + now + ")")
          .isLessThan(end);
      Thread.sleep(500);
      now = health(vm);
    }
  }

  @Test
  void healthGoesStartingThenHealthyThenUnhealthyWhenTheCheckStartsFailing() throws Exception {
    var d =
        inferno.run(
            "run",
            "-d",
            "--name",
            "svc",
            "--health-cmd",
            "test -f /tmp/ok",
            "--health-interval",
            "1s",
            "--health-retries",
            "2",
            // the guest boots under TCG while the first checks run: those failures must not count
            "--health-start-period",
            "5m",
            IMAGE,
            "sleep",
            "3600");
    assertThat(d.code()).as(d.toString()).isZero();
    assertThat(health("svc")).isEqualTo("starting");
    assertThat(inferno.run("exec", "svc", "touch", "/tmp/ok").code()).isZero();
    awaitHealth("svc", "healthy");
    assertThat(inferno.run("exec", "svc", "rm", "/tmp/ok").code()).isZero();
    awaitHealth("svc", "unhealthy");
  }

  static String sh(String... cmd) throws Exception {
    return run(null, cmd);
  }

  static String run(String input, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try (var in = p.getOutputStream()) {
      if (input != null) {
        in.write(input.getBytes(StandardCharsets.UTF_8));
      }
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("%s failed", String.join(" ", cmd)).isZero();
    return out;
  }
}
