package dev.inferno.daemon.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.model.json.Json;
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
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GET /v1/vms/{id}/stats over the real socket, from guest reports the test delivers. */
class StatsApiTest {
  static final long S = 1_000_000_000L;
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

  String run(String name, String extra) throws Exception {
    var r =
        d.call(
            "POST",
            "/v1/vms",
            "{\"image\":\"busybox\",\"name\":\""
                + name
                + "\",\"cmd\":[\"sleep\",\"60\"]"
                + extra
                + "}");
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(201);
    return (String) Json.parseObject(text).get("id");
  }

  static StatsSample sample(long sec, long busy, long idle, long avail, long rx, long pids) {
    return new StatsSample(sec * S, busy, idle, 512L << 20, avail, 0, rx, rx / 2, 4096, 8192, pids);
  }

  @Test
  void oneReadingWithDockersFigures() throws Exception {
    String id = run("web", ",\"cpus\":2,\"memoryBytes\":536870912");
    d.vms.reportTaken(id, sample(100, 1000, 9000, 400L << 20, 1000, 3));
    d.vms.report(id, sample(101, 2500, 9500, 300L << 20, 5000, 5));
    var r = d.call("GET", "/v1/vms/web/stats?stream=0", null);
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(200);
    Map<String, Object> s = Json.parseObject(text);
    // 1500 ms busy of 2000 ms on 2 vCPUs: 150 %
    assertThat(((Number) s.get("cpuPercent")).doubleValue()).isCloseTo(150.0, within(1e-6));
    assertThat(s)
        .containsEntry("id", id)
        .containsEntry("name", "web")
        .containsEntry("cpus", 2L)
        .containsEntry("memoryUsageBytes", 212L << 20)
        .containsEntry("memoryLimitBytes", 536870912L)
        .containsEntry("netRxBytes", 5000L)
        .containsEntry("netTxBytes", 2500L)
        .containsEntry("blockReadBytes", 4096L)
        .containsEntry("blockWriteBytes", 8192L)
        .containsEntry("pids", 5L);
  }

  @Test
  void theLimitIsTheSizeTheVmBootedWithUntilItBootsAgain() throws Exception {
    run("grow", ",\"cpus\":1,\"memoryBytes\":268435456");
    var u = d.call("POST", "/v1/vms/grow/update", "{\"memoryBytes\":536870912,\"cpus\":2}");
    String text = u.text();
    assertThat(u.status()).as(text).isEqualTo(200);
    assertThat(text).contains("takes effect when it boots next");
    Map<String, Object> s =
        Json.parseObject(d.call("GET", "/v1/vms/grow/stats?stream=0", null).text());
    assertThat(s).containsEntry("memoryLimitBytes", 256L << 20).containsEntry("cpus", 1L);
    assertThat(d.call("POST", "/v1/vms/grow/restart?t=1", null).status()).isEqualTo(204);
    s = Json.parseObject(d.call("GET", "/v1/vms/grow/stats?stream=0", null).text());
    assertThat(s).containsEntry("memoryLimitBytes", 512L << 20).containsEntry("cpus", 2L);
  }

  @Test
  void aVmWithoutReportsYetReadsZerosAndNoCpuPercent() throws Exception {
    run("quiet", "");
    var r = d.call("GET", "/v1/vms/quiet/stats?stream=0", null);
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(200);
    Map<String, Object> s = Json.parseObject(text);
    assertThat(s.get("cpuPercent")).isNull();
    assertThat(s)
        .containsEntry("memoryUsageBytes", 0L)
        .containsEntry("memoryLimitBytes", 256L << 20);
  }

  @Test
  void aVmNotRunningIs409AndAnUnknownOne404() throws Exception {
    var r =
        d.call("POST", "/v1/vms", "{\"image\":\"busybox\",\"name\":\"done\",\"cmd\":[\"true\"]}");
    assertThat(r.status()).isEqualTo(201);
    d.call("POST", "/v1/vms/done/wait", null).text();
    var s = d.call("GET", "/v1/vms/done/stats?stream=0", null);
    assertThat(s.status()).isEqualTo(409);
    assertThat(s.text()).contains("VM done is not running");
    assertThat(d.call("GET", "/v1/vms/nope/stats?stream=0", null).status()).isEqualTo(404);
  }

  @Test
  void theStreamSendsAReadingPerIntervalUntilTheVmStops() throws Exception {
    String id = run("live", "");
    d.vms.report(id, sample(1, 100, 900, 400L << 20, 10, 1));
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(d.socket));
      var out = Channels.newOutputStream(ch);
      out.write(
          "GET /v1/vms/live/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
      List<Map<String, Object>> readings = new ArrayList<>();
      long t = 2;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (!line.startsWith("{")) {
          continue; // status line, headers, chunk sizes
        }
        readings.add(Json.parseObject(line));
        if (readings.size() == 3) {
          d.call("POST", "/v1/vms/live/kill", null).text();
        } else if (readings.size() < 3) {
          d.vms.report(id, sample(t, 100 + t * 500, 900 + t * 500, 400L << 20, 10 * t, 1));
          t++;
        }
      }
      assertThat(readings.size()).isBetween(3, 5);
      assertThat(readings.get(2).get("cpuPercent")).isEqualTo(50.0);
      assertThat(readings).allSatisfy(m -> assertThat(m).containsEntry("name", "live"));
    }
  }
}
