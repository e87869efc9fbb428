package dev.inferno.daemon.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.stats.ObserveDaemon;
import dev.inferno.model.Event;
import dev.inferno.model.HealthConfig;
import dev.inferno.model.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Health checks end to end through the daemon: the check runs as an exec in the VM (here the
 * process backend's session side, a host process), its status reaches ps, inspect and the event
 * stream.
 */
class HealthApiTest {
  @TempDir Path dir;
  ObserveDaemon d;

  @BeforeEach
  void setUp() throws Exception {
    d =
        new ObserveDaemon(
            dir, new HealthConfig(List.of("CMD-SHELL", "exit 3"), 100_000_000L, null, null, 1));
  }

  @AfterEach
  void tearDown() throws Exception {
    d.close();
  }

  Map<String, Object> inspect(String name) throws Exception {
    return Json.parseObject(d.call("GET", "/v1/vms/" + name, null).text());
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> health(Map<String, Object> vm) {
    return (Map<String, Object>) vm.get("health");
  }

  String status(String name) throws Exception {
    Map<String, Object> h = health(inspect(name));
    return h == null ? null : (String) h.get("status");
  }

  void awaitStatus(String name, String want) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!want.equals(status(name))) {
      if (System.nanoTime() > end) {
        throw new AssertionError(name + " never became " + want + ": " + inspect(name));
      }
      Thread.sleep(50);
    }
  }

  @Test
  void aDaemonRestartGoesOnFromARunningVmsLastVerdict() throws Exception {
    String body =
        "{\"image\":\"busybox\",\"name\":\"sick\",\"cmd\":[\"sleep\",\"60\"],\"healthcheck\":"
            + "{\"test\":[\"CMD-SHELL\",\"exit 1\"],\"intervalNanos\":3000000000,\"retries\":1}}";
    var r = d.call("POST", "/v1/vms", body);
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    awaitStatus("sick", "unhealthy");
    d.restart();
    // the next check is an interval (3 s) away: what inspect shows now is the kept verdict, not a
    // fresh "starting"
    Map<String, Object> h = health(inspect("sick"));
    assertThat(h).containsEntry("status", "unhealthy").containsEntry("failingStreak", 1L);
    assertThat((List<?>) h.get("log")).as("the log is not kept").isEmpty();

    // a boot of its own starts afresh
    assertThat(d.call("POST", "/v1/vms/sick/restart?t=1", null).status()).isEqualTo(204);
    assertThat(status("sick")).isEqualTo("starting");
  }

  @Test
  void startingThenHealthyThenUnhealthyWhenTheCheckStartsFailing() throws Exception {
    Path ok = dir.resolve("ok");
    var sub = d.daemon.vms().events().subscribe(0);
    String body =
        "{\"image\":\"busybox\",\"name\":\"web\",\"cmd\":[\"sleep\",\"60\"],\"healthcheck\":"
            + "{\"test\":[\"CMD-SHELL\",\"echo checked; test -f "
            + ok
            + "\"],\"intervalNanos\":200000000,\"retries\":2}}";
    var r = d.call("POST", "/v1/vms", body);
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    assertThat(status("web")).isEqualTo("starting");
    List<?> ps = (List<?>) Json.parse(d.call("GET", "/v1/vms", null).text());
    assertThat(((Map<?, ?>) ps.getFirst()).get("health")).isEqualTo("starting");

    Files.writeString(ok, "");
    awaitStatus("web", "healthy");
    Map<String, Object> h = health(inspect("web"));
    assertThat(h.get("failingStreak")).isEqualTo(0L);
    List<?> log = (List<?>) h.get("log");
    Map<?, ?> last = (Map<?, ?>) log.getLast();
    assertThat(last.get("exitCode")).isEqualTo(0L);
    assertThat(last.get("output")).isEqualTo("checked\n");

    Files.delete(ok);
    awaitStatus("web", "unhealthy");
    h = health(inspect("web"));
    assertThat((Long) h.get("failingStreak")).isGreaterThanOrEqualTo(2L);
    assertThat((List<?>) h.get("log")).hasSizeLessThanOrEqualTo(5);
    ps = (List<?>) Json.parse(d.call("GET", "/v1/vms", null).text());
    assertThat(((Map<?, ?>) ps.getFirst()).get("health")).isEqualTo("unhealthy");

    List<String> types = new ArrayList<>();
    for (Event e = sub.next(100); e != null; e = sub.next(100)) {
      types.add(e.type());
    }
    assertThat(types)
        .containsSubsequence(
            "created", "started", "health_status: healthy", "health_status: unhealthy");
    sub.close();
  }

  @Test
  void theImagesCheckRunsUnlessNoHealthcheck() throws Exception {
    var r =
        d.call(
            "POST",
            "/v1/vms",
            "{\"image\":\"checked\",\"name\":\"img\",\"cmd\":[\"sleep\",\"60\"]}");
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    // the image's check fails at once with retries 1
    awaitStatus("img", "unhealthy");
    Map<?, ?> cfg = (Map<?, ?>) ((Map<?, ?>) inspect("img").get("request")).get("healthcheck");
    assertThat(cfg.get("test")).isEqualTo(List.of("CMD-SHELL", "exit 3"));

    r =
        d.call(
            "POST",
            "/v1/vms",
            "{\"image\":\"checked\",\"name\":\"none\",\"cmd\":[\"sleep\",\"60\"],"
                + "\"healthcheck\":{\"test\":[\"NONE\"]}}");
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    Thread.sleep(400);
    assertThat(health(inspect("none"))).isNull();
  }

  @Test
  void aCheckThatOutlivesItsTimeoutIsKilledAndFails() throws Exception {
    var r =
        d.call(
            "POST",
            "/v1/vms",
            "{\"image\":\"busybox\",\"name\":\"slow\",\"cmd\":[\"sleep\",\"60\"],\"healthcheck\":"
                + "{\"test\":[\"CMD\",\"sleep\",\"30\"],\"intervalNanos\":100000000,"
                + "\"timeoutNanos\":300000000,\"retries\":1}}");
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    awaitStatus("slow", "unhealthy");
    Map<?, ?> last = (Map<?, ?>) ((List<?>) health(inspect("slow")).get("log")).getLast();
    assertThat(last.get("exitCode")).isEqualTo(-1L);
    assertThat(last.get("output")).isEqualTo("Health check exceeded timeout (300ms)");
  }

  @Test
  void aBadCheckIs400AndNothingIsCreated() throws Exception {
    var r =
        d.call(
            "POST",
            "/v1/vms",
            "{\"image\":\"busybox\",\"name\":\"bad\",\"healthcheck\":{\"test\":[\"SHELL\",\"x\"]}}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("NONE, CMD or CMD-SHELL");
    assertThat(d.call("GET", "/v1/vms/bad", null).status()).isEqualTo(404);
  }
}
