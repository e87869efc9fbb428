package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The prune endpoints, as Testcontainers calls them at JVM exit with Ryuk off (its session's labels
 * as filters) and as {@code docker container|volume|image|network prune} does.
 */
class DockerPruneApiTest {
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

  JsonNode ok(UnixHttpClient.Response r) throws Exception {
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(200);
    return json.readTree(text);
  }

  static String filters(String raw) {
    return "?filters=" + URLEncoder.encode(raw, StandardCharsets.UTF_8);
  }

  String create(String name, String labels, String cmd) throws Exception {
    var r =
        call(
            "POST",
            "/v1.44/containers/create?name=" + name,
            "{\"Image\":\"busybox\",\"Cmd\":" + cmd + ",\"Labels\":" + labels + "}");
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(201);
    return json.readTree(text).get("Id").asText();
  }

  @Test
  void containerPruneRemovesOnlyStoppedOnesWithEveryLabelGiven() throws Exception {
    String mine = create("mine", "{\"session\":\"a\",\"tc\":\"true\"}", "[\"true\"]");
    create("other", "{\"session\":\"b\",\"tc\":\"true\"}", "[\"true\"]");
    String running = create("running", "{\"session\":\"a\",\"tc\":\"true\"}", "[\"sleep\",\"30\"]");
    assertThat(call("POST", "/containers/running/start", null).status()).isEqualTo(204);
    // the list takes the same filter: every label given (Testcontainers lists its session so)
    JsonNode listed =
        ok(
            call(
                "GET",
                "/containers/json" + filters("{\"label\":[\"tc=true\",\"session=a\"]}") + "&all=1",
                null));
    assertThat(listed.findValuesAsText("Id")).containsExactlyInAnyOrder(mine, running);

    JsonNode r =
        ok(
            call(
                "POST",
                "/v1.44/containers/prune" + filters("{\"label\":[\"tc=true\",\"session=a\"]}"),
                null));
    // only "mine": "other" lacks session=a (every label given must match), "running" runs
    assertThat(r.get("ContainersDeleted").toString()).isEqualTo("[\"" + mine + "\"]");
    assertThat(call("GET", "/containers/mine/json", null).status()).isEqualTo(404);
    assertThat(call("GET", "/containers/other/json", null).status()).isEqualTo(200);
    assertThat(call("GET", "/containers/" + running + "/json", null).status()).isEqualTo(200);

    // a filter dockerd does not take is refused, naming it
    var bad = call("POST", "/containers/prune" + filters("{\"colour\":[\"red\"]}"), null);
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.text()).contains("colour");
  }

  @Test
  void volumePruneTakesLabelsAndAll() throws Exception {
    for (String v : new String[] {"keep", "drop"}) {
      // made through the inferno API: the same volumes
      var c =
          new UnixHttpClient(d.socket)
              .send(
                  "POST",
                  "/v1/volumes",
                  "{\"name\":\"" + v + "\",\"labels\":{\"tc\":\"" + v + "\"}}");
      String text = c.text();
      assertThat(c.status()).as(text).isBetween(200, 201);
    }
    // without all=true only anonymous volumes go (Docker >= 23): these are named
    JsonNode none = ok(call("POST", "/volumes/prune" + filters("{\"label\":[\"tc=drop\"]}"), null));
    assertThat(none.get("VolumesDeleted").size()).isZero();
    JsonNode r =
        ok(
            call(
                "POST",
                "/volumes/prune" + filters("{\"label\":[\"tc=drop\"],\"all\":[\"true\"]}"),
                null));
    assertThat(r.get("VolumesDeleted").toString()).isEqualTo("[\"drop\"]");
    assertThat(new UnixHttpClient(d.socket).send("GET", "/v1/volumes/keep", null).status())
        .isEqualTo(200);
  }

  @Test
  void imagePruneKeepsUsedImagesAndNetworkPruneHasNothing() throws Exception {
    create("user", "{}", "[\"true\"]");
    // dangling only (the default): inferno keeps no untagged images
    assertThat(ok(call("POST", "/images/prune", null)).get("ImagesDeleted").size()).isZero();
    // every unused one: busybox is used by "user", so it stays
    JsonNode used = ok(call("POST", "/images/prune" + filters("{\"dangling\":[\"false\"]}"), null));
    assertThat(used.get("ImagesDeleted").size()).isZero();
    assertThat(call("GET", "/images/busybox/json", null).status()).isEqualTo(200);
    assertThat(call("DELETE", "/containers/user", null).status()).isEqualTo(204);
    JsonNode gone = ok(call("POST", "/images/prune" + filters("{\"dangling\":[\"false\"]}"), null));
    assertThat(gone.get("ImagesDeleted").toString()).contains("busybox");
    assertThat(call("GET", "/images/busybox/json", null).status()).isEqualTo(404);

    JsonNode nets =
        ok(
            call(
                "POST",
                "/networks/prune" + filters("{\"label\":[\"org.testcontainers=true\"]}"),
                null));
    assertThat(nets.get("NetworksDeleted").size()).isZero();
  }
}
