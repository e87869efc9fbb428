package dev.inferno.daemon.volume;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.testing.ProcessVmBackend;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The /v1/volumes routes and rm -v over the real socket, with the process backend. */
class VolumeApiTest {
  @TempDir Path dir;
  TestDaemon d;

  @BeforeEach
  void setUp() throws Exception {
    d = new TestDaemon(dir, PeerPolicy.ALLOW_ALL);
  }

  @AfterEach
  void tearDown() throws Exception {
    d.close();
  }

  UnixHttpClient.Response call(String method, String path, String body) throws Exception {
    return new UnixHttpClient(d.socket).send(method, path, body);
  }

  Map<String, Object> json(UnixHttpClient.Response r) throws Exception {
    return Json.parseObject(r.text());
  }

  @Test
  void createListInspectRemoveAndTheyOutliveTheDaemon() throws Exception {
    var r =
        call(
            "POST",
            "/v1/volumes",
            "{\"name\":\"data\",\"sizeBytes\":16777216,\"labels\":{\"app\":\"db\"}}");
    assertThat(r.status()).isEqualTo(201);
    Map<String, Object> v = json(r);
    assertThat(v)
        .containsEntry("name", "data")
        .containsEntry("driver", "local")
        .containsEntry("sizeBytes", 16777216L)
        .containsEntry("anonymous", false)
        .containsEntry("labels", Map.of("app", "db"));
    assertThat((String) v.get("mountpoint")).endsWith("/volumes/data/volume.ext4");

    r = call("POST", "/v1/volumes", "{\"name\":\"a b\"}");
    assertThat(r.status()).isEqualTo(400);
    assertThat((String) json(r).get("message")).startsWith("invalid volume name \"a b\"");

    // a VM that uses it, then a daemon restart: both are still known, and so is the use
    r =
        call(
            "POST",
            "/v1/vms",
            "{\"image\":\"busybox\",\"name\":\"user\",\"network\":\"none\",\"cmd\":[\"true\"],"
                + "\"mounts\":[{\"type\":\"volume\",\"source\":\"data\",\"target\":\"/data\"},"
                + "{\"type\":\"volume\",\"target\":\"/anon\"}]}");
    assertThat(r.status()).isEqualTo(201);
    String vm = (String) json(r).get("id");
    call("POST", "/v1/vms/user/wait", null).text();
    d.close();
    d = new TestDaemon(dir, PeerPolicy.ALLOW_ALL, new ProcessVmBackend(), "1m");

    List<?> all = (List<?>) Json.parse(call("GET", "/v1/volumes", null).text());
    assertThat(all).hasSize(2);
    r = call("GET", "/v1/volumes/data", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(json(r)).containsEntry("usedBy", List.of(vm)).containsKey("usedBytes");

    r = call("DELETE", "/v1/volumes/data", null);
    assertThat(r.status()).isEqualTo(409);
    assertThat((String) json(r).get("message")).contains("in use by VM user");

    // rm -v: the anonymous volume goes, the named one stays and is free
    assertThat(call("DELETE", "/v1/vms/user?volumes=1", null).status()).isEqualTo(200);
    all = (List<?>) Json.parse(call("GET", "/v1/volumes", null).text());
    assertThat(all).hasSize(1);
    assertThat(call("DELETE", "/v1/volumes/data", null).status()).isEqualTo(200);
    assertThat(call("GET", "/v1/volumes/data", null).status()).isEqualTo(404);
    assertThat(call("DELETE", "/v1/volumes/data", null).status()).isEqualTo(404);
    assertThat(call("DELETE", "/v1/volumes/data?force=1", null).status()).isEqualTo(200);
  }

  @Test
  void pruneRemovesUnusedAnonymousVolumesAndWithAllNamedOnes() throws Exception {
    call("POST", "/v1/volumes", "{\"name\":\"named\",\"sizeBytes\":16777216}").text();
    String anon =
        (String) json(call("POST", "/v1/volumes", "{\"sizeBytes\":16777216}")).get("name");
    assertThat(anon).matches("[0-9a-f]{64}");

    Map<String, Object> p = json(call("POST", "/v1/volumes/prune", null));
    assertThat(p.get("removed")).isEqualTo(List.of(anon));
    assertThat((Long) p.get("reclaimedBytes")).isPositive();
    p = json(call("POST", "/v1/volumes/prune?all=1", null));
    assertThat(p.get("removed")).isEqualTo(List.of("named"));
    assertThat((List<?>) Json.parse(call("GET", "/v1/volumes", null).text())).isEmpty();
  }

  @Test
  void aBindMountIsRefusedWithTheAlternatives() throws Exception {
    var r =
        call(
            "POST",
            "/v1/vms",
            "{\"image\":\"busybox\",\"cmd\":[\"true\"],"
                + "\"mounts\":[{\"type\":\"bind\",\"source\":\"/srv\",\"target\":\"/srv\"}]}");
    assertThat(r.status()).isEqualTo(400);
    assertThat((String) json(r).get("message"))
        .startsWith("a VM cannot share a host directory")
        .contains("inferno cp");
    assertThat((List<?>) Json.parse(call("GET", "/v1/vms?all=1", null).text())).isEmpty();
  }
}
