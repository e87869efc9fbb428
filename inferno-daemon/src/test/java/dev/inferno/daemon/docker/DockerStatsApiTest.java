package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /containers/{id}/stats} and {@code /top} over the Docker socket, from guest reports
 * the test delivers: the figures are checked as the docker CLIs compute them from the counters.
 */
class DockerStatsApiTest {
  static final long S = 1_000_000_000L;
  static final long MIB = 1 << 20;

  /** Containers that need no network do without one: no TAP to set up. */
  static final String NO_NETWORK = "{\"NetworkMode\":\"none\"}";

  @TempDir Path dir;
  TestDaemon d;
  final ObjectMapper json = new ObjectMapper();

  @BeforeEach
  void setUp() throws Exception {
    d = new TestDaemon(dir, PeerPolicy.ALLOW_ALL);
    d.pull("busybox"); // create does not pull: the client does, through the images routes
  }

  @AfterEach
  void tearDown() throws Exception {
    d.close();
  }

  UnixHttpClient.Response call(String method, String path, String body) throws Exception {
    return d.docker(method, path, body);
  }

  JsonNode answer(UnixHttpClient.Response r, int status) throws Exception {
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(status);
    return json.readTree(text);
  }

  /** A started container; {@code hostConfig} as the CLI sends it. */
  String start(String name, String hostConfig) throws Exception {
    JsonNode c =
        answer(
            call(
                "POST",
                "/v1.44/containers/create?name=" + name,
                "{\"Image\":\"busybox\",\"Cmd\":[\"sleep\",\"60\"],\"HostConfig\":"
                    + hostConfig
                    + "}"),
            201);
    var s = call("POST", "/v1.44/containers/" + name + "/start", null);
    assertThat(s.status()).as(s.text()).isEqualTo(204);
    return c.get("Id").asText();
  }

  static StatsSample sample(long sec, long busy, long idle, long avail, long rx, long pids) {
    return new StatsSample(sec * S, busy, idle, 512 * MIB, avail, 0, rx, rx / 2, 4096, 8192, pids);
  }

  /** The docker CLIs' CPU % (calculateCPUPercentUnix): Δ total / Δ system × online CPUs × 100. */
  static double cliCpuPercent(JsonNode s) {
    double cpu =
        s.at("/cpu_stats/cpu_usage/total_usage").asDouble()
            - s.at("/precpu_stats/cpu_usage/total_usage").asDouble();
    double system =
        s.at("/cpu_stats/system_cpu_usage").asDouble()
            - s.at("/precpu_stats/system_cpu_usage").asDouble();
    return system > 0 && cpu > 0 ? cpu / system * s.at("/cpu_stats/online_cpus").asInt() * 100 : 0;
  }

  /** Two reports a sampling interval apart, so the stats service holds a pair. */
  void twoReports(String id) throws Exception {
    d.vms.reportTaken(id, sample(100, 1000, 9000, 400 * MIB, 1000, 3));
    d.vms.report(id, sample(101, 2500, 9500, 300 * MIB, 5000, 5));
  }

  @Test
  void noStreamGivesCountersTheClisComputeDockersFiguresFrom() throws Exception {
    String id = start("web", "{\"Memory\":536870912,\"NanoCpus\":2000000000}");
    twoReports(id);
    JsonNode s = answer(call("GET", "/v1.41/containers/web/stats?stream=0", null), 200);
    assertThat(s.get("name").asText()).isEqualTo("/web");
    assertThat(s.get("id").asText()).isEqualTo(id);
    // 1500 ms busy of 2000 ms on 2 vCPUs: 150 %, as `inferno stats` says
    assertThat(cliCpuPercent(s)).isCloseTo(150.0, within(1e-6));
    assertThat(s.at("/cpu_stats/cpu_usage/total_usage").asLong()).isEqualTo(2500 * 1_000_000L);
    assertThat(s.at("/precpu_stats/cpu_usage/total_usage").asLong()).isEqualTo(1000 * 1_000_000L);
    assertThat(s.at("/cpu_stats/online_cpus").asInt()).isEqualTo(2);
    // MEM USAGE / LIMIT: usage minus inactive_file (none given), of the VM's memory
    assertThat(s.at("/memory_stats/usage").asLong()).isEqualTo(212 * MIB);
    assertThat(s.at("/memory_stats/limit").asLong()).isEqualTo(536870912L);
    assertThat(s.at("/memory_stats/stats/inactive_file").isMissingNode()).isTrue();
    // NET I/O: the sum over "networks"; BLOCK I/O: the "read"/"write" entries
    assertThat(s.at("/networks/eth0/rx_bytes").asLong()).isEqualTo(5000);
    assertThat(s.at("/networks/eth0/tx_bytes").asLong()).isEqualTo(2500);
    assertThat(s.at("/blkio_stats/io_service_bytes_recursive").findValuesAsText("op"))
        .containsExactly("read", "write");
    assertThat(s.at("/blkio_stats/io_service_bytes_recursive/0/value").asLong()).isEqualTo(4096);
    assertThat(s.at("/blkio_stats/io_service_bytes_recursive/1/value").asLong()).isEqualTo(8192);
    assertThat(s.at("/pids_stats/current").asLong()).isEqualTo(5);
    // read/preread: the guest's clock put the readings one second apart
    assertThat(
            java.time.Duration.between(
                java.time.Instant.parse(s.get("preread").asText()),
                java.time.Instant.parse(s.get("read").asText())))
        .isEqualTo(java.time.Duration.ofSeconds(1));

    // one-shot: the one reading, without a predecessor (dockerd's one-shot has no precpu)
    JsonNode one = answer(call("GET", "/containers/web/stats?stream=0&one-shot=1", null), 200);
    assertThat(one.at("/cpu_stats/cpu_usage/total_usage").asLong()).isEqualTo(2500 * 1_000_000L);
    assertThat(one.at("/precpu_stats/cpu_usage/total_usage").asLong()).isZero();
    assertThat(one.at("/precpu_stats/system_cpu_usage").isMissingNode()).isTrue();
    assertThat(one.get("preread").asText()).isEqualTo(DockerTime.ZERO);
  }

  @Test
  void aContainerWithoutANetworkHasNoNetworks() throws Exception {
    String id = start("quiet", NO_NETWORK);
    twoReports(id);
    JsonNode s = answer(call("GET", "/containers/" + id + "/stats?stream=false", null), 200);
    assertThat(s.has("networks")).isFalse();
    assertThat(s.get("name").asText()).isEqualTo("/quiet");
  }

  @Test
  void aStoppedContainerReadsAsDockerdsEmptyStats() throws Exception {
    String id =
        answer(
                call(
                    "POST",
                    "/containers/create?name=idle",
                    "{\"Image\":\"busybox\",\"Cmd\":[\"true\"]}"),
                201)
            .get("Id")
            .asText();
    JsonNode s = answer(call("GET", "/containers/idle/stats?stream=0", null), 200);
    assertThat(s.get("name").asText()).isEqualTo("/idle");
    assertThat(s.get("id").asText()).isEqualTo(id);
    assertThat(s.get("read").asText()).isEqualTo(DockerTime.ZERO);
    assertThat(s.get("memory_stats").size()).isZero();
    assertThat(s.at("/cpu_stats/cpu_usage/total_usage").asLong()).isZero();
    assertThat(s.at("/blkio_stats/io_service_bytes_recursive").isNull()).isTrue();
    assertThat(s.has("networks")).isFalse();
  }

  @Test
  void badInputs() throws Exception {
    start("web", NO_NETWORK);
    assertThat(
            answer(call("GET", "/containers/web/stats?stream=1&one-shot=1", null), 400)
                .get("message")
                .asText())
        .isEqualTo("cannot have stream=true and one-shot=true");
    assertThat(answer(call("GET", "/containers/web/stats?stream=maybe", null), 400).toString())
        .contains("stream=maybe");
    assertThat(
            answer(call("GET", "/containers/nope/stats?stream=0", null), 404)
                .get("message")
                .asText())
        .isEqualTo("No such container: nope");
    assertThat(
            answer(call("GET", "/containers/web/top?ps_args=aux", null), 400)
                .get("message")
                .asText())
        .startsWith("ps_args \"aux\" is not supported");
    assertThat(answer(call("GET", "/containers/nope/top", null), 404).get("message").asText())
        .isEqualTo("No such container: nope");
  }

  @Test
  void topListsTheGuestsProcessesAndRefusesAStoppedContainer() throws Exception {
    String id = start("web", NO_NETWORK);
    JsonNode top = answer(call("GET", "/v1.41/containers/web/top", null), 200);
    // the guest's top session answers (the process backend's stands in for the guest's init)
    assertThat(top.get("Titles").isArray()).isTrue();
    assertThat(top.get("Processes").get(0).size()).isEqualTo(top.get("Titles").size());
    assertThat(answer(call("GET", "/containers/web/top?ps_args=-ef", null), 200).get("Titles"))
        .isEqualTo(top.get("Titles"));
    assertThat(call("POST", "/containers/web/kill", null).status()).isEqualTo(204);
    assertThat(answer(call("POST", "/containers/web/wait", null), 200).has("StatusCode")).isTrue();
    assertThat(answer(call("GET", "/containers/web/top", null), 409).get("message").asText())
        .isEqualTo("Container " + id + " is not running");
  }

  @Test
  void theStreamSendsAReadingPerIntervalEachWithTheOneBeforeAsPrecpu() throws Exception {
    String id = start("live", NO_NETWORK);
    d.vms.report(id, sample(1, 100, 900, 400 * MIB, 10, 1));
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(d.dockerSocket));
      var out = Channels.newOutputStream(ch);
      out.write(
          "GET /v1.41/containers/live/stats?stream=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
      List<JsonNode> readings = new ArrayList<>();
      long t = 2;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (!line.startsWith("{")) {
          continue; // status line, headers, chunk sizes
        }
        readings.add(json.readTree(line));
        if (readings.size() == 3) {
          break;
        }
        d.vms.report(id, sample(t, 100 + t * 500, 900 + t * 500, 400 * MIB, 10 * t, 1));
        t++;
      }
      assertThat(readings).hasSize(3);
      assertThat(readings).allSatisfy(r -> assertThat(r.get("name").asText()).isEqualTo("/live"));
      JsonNode last = readings.get(2);
      // each reading's precpu is its predecessor's cpu: 500 ms busy of 1000 ms on 1 vCPU
      assertThat(last.get("precpu_stats")).isEqualTo(readings.get(1).get("cpu_stats"));
      assertThat(cliCpuPercent(last)).isCloseTo(50.0, within(1e-6));
    }
  }
}
