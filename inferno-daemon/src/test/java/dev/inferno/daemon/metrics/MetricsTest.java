package dev.inferno.daemon.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.daemon.stats.ObserveDaemon;
import dev.inferno.model.json.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /metrics as Prometheus reads it: the text goes through the reference parser (Debian's
 * python3-prometheus-client, scripts/install-deps.sh: hence /usr/bin/python3, not a python3 of
 * another install), which prints what it understood as JSON.
 */
class MetricsTest {
  static final String PARSE =
      """
      import json, sys
      from prometheus_client.parser import text_string_to_metric_families
      out = []
      for f in text_string_to_metric_families(sys.stdin.read()):
          for s in f.samples:
              out.append({"family": f.name, "type": f.type, "name": s.name,
                          "labels": s.labels, "value": s.value})
      print(json.dumps(out))
      """;

  @TempDir Path dir;
  ObserveDaemon d;

  @BeforeEach
  void setUp() throws Exception {
    d = new ObserveDaemon(dir);
  }

  @AfterEach
  void tearDown() throws Exception {
    d.close();
  }

  String scrape() throws Exception {
    var addr = d.daemon.metricsAddress();
    try (HttpClient http = HttpClient.newHttpClient()) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + addr.getPort() + "/metrics"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
      return r.body();
    }
  }

  /** Every sample, as the Prometheus parser read it. */
  List<Map<String, Object>> parse(String text) throws Exception {
    Path script = dir.resolve("parse.py");
    Files.writeString(script, PARSE);
    Process p = new ProcessBuilder("/usr/bin/python3", script.toString()).start();
    try (var in = p.getOutputStream()) {
      in.write(text.getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(err + "\n" + text).isZero();
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> samples = (List<Map<String, Object>>) Json.parse(out);
    return samples;
  }

  static double value(List<Map<String, Object>> samples, String name, Map<String, String> labels) {
    return samples.stream()
        .filter(s -> s.get("name").equals(name))
        .filter(s -> ((Map<?, ?>) s.get("labels")).entrySet().containsAll(labels.entrySet()))
        .mapToDouble(s -> ((Number) s.get("value")).doubleValue())
        .findFirst()
        .orElseThrow(() -> new AssertionError("no sample " + name + labels + " in " + samples));
  }

  @Test
  void perVmAndDaemonMetricsParse() throws Exception {
    var r =
        d.call(
            "POST",
            "/v1/vms",
            "{\"image\":\"busybox\",\"name\":\"web\",\"cmd\":[\"sleep\",\"60\"]}");
    assertThat(r.status()).isEqualTo(201);
    String id = (String) Json.parseObject(r.text()).get("id");
    d.vms.report(
        id, new StatsSample(1_000_000_000L, 2500, 7500, 256L << 20, 200L << 20, 0, 1, 2, 3, 4, 2));
    d.call("POST", "/v1/vms", "{\"image\":\"busybox\",\"name\":\"done\",\"cmd\":[\"true\"]}")
        .text();
    d.call("POST", "/v1/vms/done/wait", null).text();
    assertThat(d.call("GET", "/v1/vms/nope", null).status()).isEqualTo(404);
    assertThat(d.call("GET", "/v1/vms/web/stats?stream=0", null).status()).isEqualTo(200);

    List<Map<String, Object>> m = parse(scrape());
    Map<String, String> web = Map.of("id", id, "name", "web");
    assertThat(value(m, "inferno_vm_cpu_seconds_total", web)).isEqualTo(2.5);
    assertThat(value(m, "inferno_vm_memory_bytes", web)).isEqualTo(56 << 20);
    assertThat(value(m, "inferno_vm_memory_limit_bytes", web)).isEqualTo(256 << 20);
    assertThat(value(m, "inferno_vm_state", Map.of("name", "web", "state", "running")))
        .isEqualTo(1);
    assertThat(value(m, "inferno_vm_state", Map.of("name", "done", "state", "exited")))
        .isEqualTo(1);
    assertThat(value(m, "inferno_vm_restarts_total", web)).isZero();
    assertThat(value(m, "inferno_vms", Map.of("state", "running"))).isEqualTo(1);
    assertThat(value(m, "inferno_vms", Map.of("state", "exited"))).isEqualTo(1);
    assertThat(value(m, "inferno_vm_boots_total", Map.of())).isEqualTo(2);
    assertThat(value(m, "inferno_vm_boot_seconds_count", Map.of())).isEqualTo(2);
    assertThat(value(m, "inferno_api_errors_total", Map.of("status", "404"))).isEqualTo(1);
    assertThat(value(m, "inferno_vm_stop_escalations_total", Map.of())).isZero();
    // busybox was not present: the first run pulled it (the test registry's image: 1234567 bytes)
    assertThat(value(m, "inferno_image_pulls_total", Map.of())).isEqualTo(1);
    assertThat(value(m, "inferno_image_pull_bytes_total", Map.of())).isEqualTo(1234567);
  }

  @Test
  void aStopThatEndsInAKillCountsAsAnEscalation() throws Exception {
    // the process ignores SIGTERM: the stop's timeout runs out and it is killed
    var r =
        d.call(
            "POST",
            "/v1/vms",
            "{\"image\":\"busybox\",\"name\":\"stubborn\",\"cmd\":[\"sh\",\"-c\","
                + "\"trap '' TERM; while :; do sleep 0.1; done\"]}");
    assertThat(r.status()).isEqualTo(201);
    Thread.sleep(300);
    assertThat(d.call("POST", "/v1/vms/stubborn/stop?timeout=1", null).status()).isEqualTo(200);
    assertThat(value(parse(scrape()), "inferno_vm_stop_escalations_total", Map.of())).isEqualTo(1);
  }
}
