package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.testing.BusyboxArchives;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker save} ({@code GET /images/get}, {@code /images/{name}/get}) and {@code inferno
 * save} ({@code GET /v1/images/save}) with the real image module behind a test daemon: a busybox
 * layout (scripts/make-busybox-image.sh) loaded as tools/busybox:1, saved, removed, loaded again.
 */
class DockerSaveApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path shared;
  static byte[] busybox;

  @TempDir Path dir;
  TestDaemon d;

  @BeforeAll
  static void busyboxArchive() throws Exception {
    busybox = BusyboxArchives.make(shared, "tools/busybox:1", List.of()).tar();
  }

  @BeforeEach
  void daemonWithBusybox() throws Exception {
    d = TestDaemon.withImageModule(dir, "64m");
    assertThat(load(busybox).text())
        .isEqualTo("{\"stream\":\"Loaded image: tools/busybox:1\\n\"}\r\n");
  }

  @AfterEach
  void stop() throws Exception {
    d.close();
  }

  private UnixHttpClient.Response docker(String path) throws IOException {
    return new UnixHttpClient(d.dockerSocket).send("GET", path, null);
  }

  private UnixHttpClient.Response load(byte[] tar) throws IOException {
    return new UnixHttpClient(d.dockerSocket)
        .send(
            "POST",
            "/v1.41/images/load?quiet=0",
            Map.of("Content-Type", "application/x-tar"),
            new ByteArrayInputStream(tar),
            tar.length);
  }

  private static byte[] bytes(UnixHttpClient.Response r) throws IOException {
    try (r) {
      return r.body().readAllBytes();
    }
  }

  private static Map<String, byte[]> entries(byte[] tar) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
      for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        out.put(e.getName(), in.readAllBytes());
      }
    }
    return out;
  }

  private static String message(UnixHttpClient.Response r) throws IOException {
    return String.valueOf(Json.parseObject(r.text()).get("message"));
  }

  @Test
  void savesATarOfTheImageAndRefusesUnknownNamesBeforeAnyByte() throws Exception {
    UnixHttpClient.Response r = docker("/v1.41/images/get?names=tools/busybox:1");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers().get("content-type")).isEqualTo("application/x-tar");
    byte[] tar = bytes(r);
    Map<String, byte[]> entries = entries(tar);
    assertThat(entries).containsKeys("oci-layout", "index.json", "manifest.json", "repositories");
    JsonNode manifest = JSON.readTree(entries.get("manifest.json"));
    assertThat(manifest).hasSize(1);
    assertThat(manifest.get(0).get("RepoTags").toString()).isEqualTo("[\"tools/busybox:1\"]");
    assertThat(entries).containsKey(manifest.get(0).get("Config").asText());
    JsonNode index = JSON.readTree(entries.get("index.json"));
    assertThat(index.at("/manifests/0/annotations/io.containerd.image.name").asText())
        .isEqualTo("docker.io/tools/busybox:1");
    String id =
        String.valueOf(Json.parseObject(docker("/images/tools/busybox:1/json").text()).get("Id"));
    assertThat(manifest.get(0).get("Config").asText()).isEqualTo("blobs/sha256/" + id.substring(7));

    // by path, by id (untagged), and the same image twice: its blobs once
    assertThat(bytes(docker("/images/tools/busybox:1/get"))).isEqualTo(tar);
    Map<String, byte[]> byId = entries(bytes(docker("/images/get?names=" + id.substring(7, 19))));
    assertThat(JSON.readTree(byId.get("manifest.json")).get(0).get("RepoTags").isNull()).isTrue();
    Map<String, byte[]> twice =
        entries(bytes(docker("/images/get?names=tools/busybox:1&names=" + id)));
    assertThat(twice.keySet()).isEqualTo(entries.keySet());

    var unknown = docker("/v1.41/images/get?names=tools/busybox:1&names=nope:1");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.headers().get("content-type")).isEqualTo("application/json");
    assertThat(message(unknown)).isEqualTo("No such image: nope:1");
    var unknownPath = docker("/images/nope/get");
    assertThat(unknownPath.status()).isEqualTo(404);
    assertThat(message(unknownPath)).isEqualTo("No such image: nope");
    var none = docker("/images/get");
    assertThat(none.status()).isEqualTo(400);
    assertThat(message(none)).isEqualTo("names is required: the images to save");
    var platform = docker("/images/get?names=tools/busybox:1&platform=linux/arm64");
    assertThat(platform.status()).isEqualTo(400);
    assertThat(message(platform)).startsWith("platform is not supported");
  }

  @Test
  void aSavedImageRemovedAndLoadedAgainIsTheSameImage() throws Exception {
    Map<String, Object> before = Json.parseObject(docker("/images/tools/busybox:1/json").text());
    byte[] tar = bytes(docker("/images/get?names=tools/busybox:1"));
    var rm = new UnixHttpClient(d.dockerSocket).send("DELETE", "/images/tools/busybox:1", null);
    assertThat(rm.status()).as(rm.text()).isEqualTo(200);
    assertThat(docker("/images/tools/busybox:1/json").status()).isEqualTo(404);

    assertThat(load(tar).text()).isEqualTo("{\"stream\":\"Loaded image: tools/busybox:1\\n\"}\r\n");
    Map<String, Object> after = Json.parseObject(docker("/images/tools/busybox:1/json").text());
    assertThat(after.get("Id")).isEqualTo(before.get("Id"));
    assertThat(after.get("RepoDigests")).isEqualTo(before.get("RepoDigests"));
  }

  @Test
  void theInfernoApiSavesTheSameArchive() throws Exception {
    byte[] viaDocker = bytes(docker("/images/get?names=tools/busybox:1"));
    var r = new UnixHttpClient(d.socket).send("GET", "/v1/images/save?ref=tools/busybox:1", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers().get("content-type")).isEqualTo("application/x-tar");
    assertThat(bytes(r)).isEqualTo(viaDocker);

    var unknown =
        new UnixHttpClient(d.socket)
            .send("GET", "/v1/images/save?ref=tools/busybox:1&ref=nope", null);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(message(unknown)).isEqualTo("no such image: nope");
    var none = new UnixHttpClient(d.socket).send("GET", "/v1/images/save", null);
    assertThat(none.status()).isEqualTo(400);
    assertThat(message(none)).isEqualTo("no image reference given (ref=…)");
  }
}
