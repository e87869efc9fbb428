package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.testing.BusyboxArchives;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker tag} ({@code POST /images/{name}/tag}), {@code docker history} ({@code GET
 * /images/{name}/history}), rmi of one of two names, and their inferno routes, with the real image
 * module behind a test daemon: two umoci-built busybox images (scripts/make-busybox-image.sh)
 * loaded as tools/busybox:1 and tools/other:1.
 */
class DockerTagHistoryApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path shared;
  static byte[] busybox;
  static byte[] other;
  static JsonNode busyboxConfig;

  @TempDir Path dir;
  TestDaemon d;

  @BeforeAll
  static void archives() throws Exception {
    BusyboxArchives.Archive b =
        BusyboxArchives.make(
            Files.createDirectories(shared.resolve("busybox")), "tools/busybox:1", List.of());
    busybox = b.tar();
    Path layout = b.layout();
    JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
    JsonNode manifest = blob(layout, index.get("manifests").get(0).get("digest").asText());
    busyboxConfig = blob(layout, manifest.path("config").path("digest").asText());
    other =
        BusyboxArchives.make(
                Files.createDirectories(shared.resolve("other")),
                "tools/other:1",
                List.of("--config.cmd", "true"))
            .tar();
  }

  private static JsonNode blob(Path layout, String digest) throws IOException {
    return JSON.readTree(layout.resolve("blobs/sha256/" + digest.substring(7)).toFile());
  }

  @BeforeEach
  void daemonWithTwoImages() throws Exception {
    d = TestDaemon.withImageModule(dir, "64m");
    load(busybox);
    load(other);
  }

  @AfterEach
  void stop() throws Exception {
    d.close();
  }

  private void load(byte[] tar) throws IOException {
    var r =
        new UnixHttpClient(d.dockerSocket)
            .send(
                "POST",
                "/v1.41/images/load",
                Map.of("Content-Type", "application/x-tar"),
                new ByteArrayInputStream(tar),
                tar.length);
    assertThat(r.text()).startsWith("{\"stream\":\"Loaded image: tools/");
  }

  private UnixHttpClient.Response docker(String method, String path) throws IOException {
    return new UnixHttpClient(d.dockerSocket).send(method, path, null);
  }

  private static JsonNode json(UnixHttpClient.Response r) throws IOException {
    return JSON.readTree(r.text());
  }

  private JsonNode image(String name) throws IOException {
    var r = docker("GET", "/images/" + name + "/json");
    assertThat(r.status()).as(name).isEqualTo(200);
    return json(r);
  }

  @Test
  void tagAddsANameDockerListsAndRmiOfOneNameOnlyUntagsIt() throws Exception {
    String id = image("tools/busybox:1").get("Id").asText();
    var r = docker("POST", "/v1.41/images/tools/busybox:1/tag?repo=localhost:5000/tools/bb&tag=2");
    assertThat(r.status()).isEqualTo(201);
    assertThat(r.text()).isEmpty();
    // no tag is latest, and an image id is a source like a name
    assertThat(docker("POST", "/images/" + id.substring(7, 19) + "/tag?repo=mine").status())
        .isEqualTo(201);

    assertThat(image("localhost:5000/tools/bb:2").get("Id").asText()).isEqualTo(id);
    assertThat(image("mine:latest").get("RepoTags").toString())
        .as("in the store's order: by normalized reference, docker.io/ first")
        .isEqualTo("[\"mine:latest\",\"tools/busybox:1\",\"localhost:5000/tools/bb:2\"]");
    JsonNode list = json(docker("GET", "/images/json"));
    assertThat(list).hasSize(2);
    String filter =
        java.net.URLEncoder.encode("{\"reference\":[\"mine\"]}", StandardCharsets.UTF_8);
    assertThat(json(docker("GET", "/images/json?filters=" + filter)))
        .singleElement()
        .satisfies(i -> {
          assertThat(i.get("Id").asText()).isEqualTo(id);
          // as dockerd: only the names the filter matched, so docker images NAME shows its rows
          assertThat(i.get("RepoTags").toString()).isEqualTo("[\"mine:latest\"]");
        });

    var rm = docker("DELETE", "/images/mine");
    assertThat(rm.status()).isEqualTo(200);
    assertThat(rm.text()).isEqualTo("[{\"Untagged\":\"mine:latest\"}]");
    assertThat(docker("GET", "/images/mine/json").status()).isEqualTo(404);
    assertThat(image("tools/busybox:1").get("RepoTags")).hasSize(2);

    // the last two names: by id, both go with the image
    var all = docker("DELETE", "/images/" + id);
    assertThat(all.status()).isEqualTo(200);
    assertThat(all.text())
        .contains("{\"Untagged\":\"localhost:5000/tools/bb:2\"}")
        .contains("{\"Untagged\":\"tools/busybox:1\"}")
        .endsWith("{\"Deleted\":\"" + id + "\"}]");
    assertThat(json(docker("GET", "/images/json"))).hasSize(1);
  }

  @Test
  void retagMovesTheNameAndLeavesTheOldImageDangling() throws Exception {
    String otherId = image("tools/other:1").get("Id").asText();
    String busyboxId = image("tools/busybox:1").get("Id").asText();
    assertThat(otherId).isNotEqualTo(busyboxId);
    assertThat(docker("POST", "/images/tools/busybox:1/tag?repo=tools/other&tag=1").status())
        .isEqualTo(201);
    assertThat(image("tools/other:1").get("Id").asText()).isEqualTo(busyboxId);
    JsonNode dangling = image(otherId);
    assertThat(dangling.get("RepoTags")).isEmpty();
    String f = java.net.URLEncoder.encode("{\"dangling\":[\"true\"]}", StandardCharsets.UTF_8);
    assertThat(json(docker("GET", "/images/json?filters=" + f)))
        .singleElement()
        .satisfies(i -> assertThat(i.get("Id").asText()).isEqualTo(otherId));
    // docker image prune's default takes exactly the dangling one
    JsonNode pruned = json(docker("POST", "/images/prune"));
    assertThat(pruned.get("ImagesDeleted").toString())
        .isEqualTo("[{\"Deleted\":\"" + otherId + "\"}]");
    assertThat(json(docker("GET", "/images/json"))).hasSize(1);
  }

  @Test
  void tagRefusesWhatDockerdRefuses() throws Exception {
    var missing = docker("POST", "/images/nope:1/tag?repo=x");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(json(missing).get("message").asText()).isEqualTo("No such image: nope:1");
    var bad = docker("POST", "/images/tools/busybox:1/tag?repo=Bad/Name");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(json(bad).get("message").asText()).startsWith("invalid reference format: Bad/Name");
    var noRepo = docker("POST", "/images/tools/busybox:1/tag");
    assertThat(noRepo.status()).isEqualTo(400);
    String digest = image("tools/busybox:1").get("RepoDigests").get(0).asText();
    var pinned =
        docker(
            "POST",
            "/images/tools/busybox:1/tag?repo=x&tag=" + digest.substring(digest.indexOf('@') + 1));
    assertThat(pinned.status()).isEqualTo(400);
    assertThat(json(pinned).get("message").asText())
        .isEqualTo("refusing to create a tag with a digest reference");
    assertThat(image("tools/busybox:1").get("RepoTags")).hasSize(1);
  }

  @Test
  void historyIsTheConfigsStepsNewestFirstAsDockerdShapesThem() throws Exception {
    String id = image("tools/busybox:1").get("Id").asText();
    var r = docker("GET", "/v1.41/images/tools/busybox:1/history");
    assertThat(r.status()).isEqualTo(200);
    JsonNode h = json(r);
    JsonNode steps = busyboxConfig.get("history");
    assertThat(h).hasSize(steps.size()).hasSizeGreaterThan(1);
    for (int i = 0; i < h.size(); i++) {
      JsonNode got = h.get(i);
      JsonNode step = steps.get(steps.size() - 1 - i);
      assertThat(got.fieldNames())
          .toIterable()
          .containsExactly("Id", "Created", "CreatedBy", "Tags", "Size", "Comment");
      assertThat(got.get("Id").asText()).isEqualTo(i == 0 ? id : "<missing>");
      assertThat(got.get("Tags").toString()).isEqualTo(i == 0 ? "[\"tools/busybox:1\"]" : "null");
      assertThat(got.get("CreatedBy").asText()).isEqualTo(step.path("created_by").asText(""));
      assertThat(got.get("Created").asLong())
          .isEqualTo(java.time.Instant.parse(step.get("created").asText()).getEpochSecond());
      if (step.path("empty_layer").asBoolean()) {
        assertThat(got.get("Size").asLong()).isZero();
      } else {
        assertThat(got.get("Size").asLong()).isPositive();
      }
    }
    var missing = docker("GET", "/images/nope/history");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(json(missing).get("message").asText()).isEqualTo("No such image: nope");
  }

  @Test
  void anUnknownImageSubPathIsNoRouteNotAWrongMethod() throws Exception {
    var nope = docker("GET", "/images/busybox/nope");
    assertThat(nope.status()).isEqualTo(404);
    assertThat(json(nope).get("message").asText())
        .isEqualTo("no such API route: GET /images/busybox/nope");
    var plain = docker("GET", "/images/busybox");
    assertThat(plain.status()).as("one segment is an image name: DELETE serves it").isEqualTo(405);
    assertThat(plain.headers().get("allow")).isEqualTo("DELETE");
    assertThat(docker("PUT", "/images/localhost:5000/tools/busybox:1/json").status())
        .isEqualTo(405);
    // names with a registry, slashes and a tag still reach their routes
    assertThat(
            docker("POST", "/images/tools/busybox:1/tag?repo=localhost:5000/tools/busybox&tag=1")
                .status())
        .isEqualTo(201);
    assertThat(image("localhost:5000/tools/busybox:1").get("RepoTags")).hasSize(2);
    assertThat(docker("GET", "/images/localhost:5000/tools/busybox:1/history").status())
        .isEqualTo(200);
    assertThat(docker("DELETE", "/images/localhost:5000/tools/busybox:1").status()).isEqualTo(200);
  }

  @Test
  void infernoRoutesTagAndTellTheHistory() throws Exception {
    UnixHttpClient api = new UnixHttpClient(d.socket);
    var r = api.send("POST", "/v1/images/tag?source=tools/busybox:1&target=tools/busybox:2", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(json(r).get("reference").asText()).isEqualTo("docker.io/tools/busybox:1");
    var h =
        new UnixHttpClient(d.socket).send("GET", "/v1/images/history?ref=tools/busybox:2", null);
    assertThat(h.status()).isEqualTo(200);
    JsonNode steps = json(h);
    assertThat(steps.get(0).get("tags").toString())
        .isEqualTo("[\"docker.io/tools/busybox:1\",\"docker.io/tools/busybox:2\"]");
    assertThat(steps.get(1).get("id").isNull()).isTrue();
    var bad =
        new UnixHttpClient(d.socket)
            .send(
                "POST",
                "/v1/images/tag?source=tools/busybox:1&target=x@sha256:" + "a".repeat(64),
                null);
    assertThat(bad.status()).isEqualTo(400);
    var missing = new UnixHttpClient(d.socket).send("GET", "/v1/images/history?ref=nope", null);
    assertThat(missing.status()).isEqualTo(404);
  }
}
