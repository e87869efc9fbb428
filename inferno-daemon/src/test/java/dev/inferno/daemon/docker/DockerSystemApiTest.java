package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.testing.MemoryImageBackend;
import dev.inferno.daemon.testing.ProcessVmBackend;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Docker API's system and image routes over the real docker.sock of a test daemon. */
class DockerSystemApiTest {
  @TempDir Path dir;
  TestDaemon d;
  MemoryImageBackend registry;

  @BeforeEach
  void setUp() throws Exception {
    registry =
        new MemoryImageBackend()
            .publish("busybox", List.of("sh"))
            .publish("localhost:5000/team/tool:1", List.of("tool"), List.of("80/tcp"))
            .account("localhost:5000", "ann", "secret")
            .publish(
                new ImageInfo(
                    "localhost:5000/labelled:2",
                    "sha256:" + "b".repeat(64),
                    "sha256:" + "c".repeat(64),
                    10,
                    Instant.parse("2026-01-01T00:00:00Z"),
                    List.of(),
                    List.of("sh"),
                    List.of(),
                    "/srv",
                    "app",
                    "SIGINT",
                    Path.of("/nonexistent"),
                    List.of(),
                    List.of("/data"),
                    null,
                    Map.of("team", "core", "tier", "db"),
                    "linux",
                    "arm64"));
    d =
        new TestDaemon(
            dir, PeerPolicy.ALLOW_ALL, new ProcessVmBackend(), "1m", new Failing(registry));
  }

  @AfterEach
  void tearDown() throws Exception {
    d.close();
  }

  UnixHttpClient.Response call(String method, String path) throws Exception {
    return new UnixHttpClient(d.dockerSocket).send(method, path, null);
  }

  UnixHttpClient.Response call(String method, String path, Map<String, String> headers)
      throws Exception {
    return new UnixHttpClient(d.dockerSocket).send(method, path, headers, null, 0);
  }

  static Map<String, Object> obj(UnixHttpClient.Response r) throws Exception {
    return Json.parseObject(r.text());
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> byTag(List<Object> images, String tag) {
    return images.stream()
        .map(i -> (Map<String, Object>) i)
        .filter(i -> ((List<?>) i.get("RepoTags")).contains(tag))
        .findFirst()
        .orElseThrow();
  }

  @SuppressWarnings("unchecked")
  static List<Object> arr(String text) {
    return (List<Object>) Json.parse(text);
  }

  @SuppressWarnings("unchecked")
  static <T> T at(Object o, String... keys) {
    Object cur = o;
    for (String k : keys) {
      cur = ((Map<String, Object>) cur).get(k);
    }
    return (T) cur;
  }

  /** The pull stream's JSON lines. */
  static List<Map<String, Object>> lines(UnixHttpClient.Response r) throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String l : r.text().split("\r?\n")) {
      if (!l.isBlank()) {
        out.add(Json.parseObject(l));
      }
    }
    return out;
  }

  @Test
  void pingAnswersOkWithDockersHeadersWithAndWithoutPrefix() throws Exception {
    for (String path : List.of("/_ping", "/v1.41/_ping", "/v1.44/_ping")) {
      var r = call("GET", path);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.headers())
          .containsEntry("api-version", "1.44")
          .containsEntry("ostype", "linux")
          .containsEntry("docker-experimental", "false")
          .containsEntry("cache-control", "no-cache, no-store, must-revalidate")
          .containsEntry("pragma", "no-cache")
          .containsKey("builder-version");
      assertThat(r.headers().get("content-type")).startsWith("text/plain");
      assertThat(r.text()).isEqualTo("OK");
    }
    var head = call("HEAD", "/_ping");
    assertThat(head.status()).isEqualTo(200);
    assertThat(head.headers()).containsEntry("api-version", "1.44");
  }

  @Test
  void versionHasDockersShape() throws Exception {
    var r = call("GET", "/v1.41/version");
    assertThat(r.status()).isEqualTo(200);
    Map<String, Object> v = obj(r);
    assertThat(v)
        .containsEntry("ApiVersion", "1.44")
        .containsEntry("MinAPIVersion", "1.24")
        .containsEntry("Os", "linux")
        // the release of API 1.44, inferno's version as build metadata: clients compare it
        .containsEntry("Version", "25.0.0+inferno." + dev.inferno.daemon.Daemon.VERSION)
        .containsKeys("GitCommit", "GoVersion", "Arch", "KernelVersion", "BuildTime");
    assertThat(at(v, "Platform", "Name").toString()).isNotBlank();
    List<Map<String, Object>> components = at(v, "Components");
    assertThat(components).hasSize(1);
    assertThat(components.getFirst()).containsEntry("Name", "Engine");
    assertThat(at(components.getFirst(), "Details", "ApiVersion").toString()).isEqualTo("1.44");
    assertThat(at(components.getFirst(), "Details", "MinAPIVersion").toString()).isEqualTo("1.24");
  }

  @Test
  void versionsOutOfRangeAndUnknownRoutesGetDockersStatusAndMessage() throws Exception {
    var tooNew = call("GET", "/v1.99/version");
    assertThat(tooNew.status()).isEqualTo(400);
    assertThat(obj(tooNew))
        .containsEntry(
            "message", "client version 1.99 is too new. Maximum supported API version is 1.44");
    assertThat(tooNew.headers()).containsEntry("api-version", "1.44");
    var tooOld = call("GET", "/v1.12/info");
    assertThat(tooOld.status()).isEqualTo(400);
    assertThat(obj(tooOld).get("message").toString()).contains("is too old");
    var unknown = call("GET", "/v1.44/swarm");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(obj(unknown).get("message").toString()).contains("/swarm");
  }

  @Test
  void infoCountsContainersAndImages() throws Exception {
    new UnixHttpClient(d.socket)
        .send(
            "POST",
            "/v1/vms",
            "{\"image\":\"busybox\",\"name\":\"one\",\"cmd\":[\"sh\",\"-c\",\"exit 0\"]}")
        .text();
    new UnixHttpClient(d.socket).send("POST", "/v1/vms/one/wait", null).text();
    Map<String, Object> info = obj(call("GET", "/v1.44/info"));
    assertThat(info)
        .containsEntry("Containers", 1L)
        .containsEntry("ContainersRunning", 0L)
        .containsEntry("ContainersPaused", 0L)
        .containsEntry("ContainersStopped", 1L)
        .containsEntry("Images", 1L)
        .containsEntry("OSType", "linux")
        .containsEntry("DefaultRuntime", "process")
        .containsEntry("DockerRootDir", dir.resolve("state").toString())
        .containsKeys(
            "ID",
            "Driver",
            "OperatingSystem",
            "Architecture",
            "Name",
            "ServerVersion",
            "KernelVersion",
            "SecurityOptions",
            "Labels");
    assertThat((Long) info.get("NCPU")).isPositive();
    assertThat((Long) info.get("MemTotal")).isPositive();
    assertThat((Object) at(info, "Runtimes", "process")).isNotNull();
    assertThat(at(info, "Swarm", "LocalNodeState").toString()).isEqualTo("inactive");
    // the process backend has no KVM: said as dockerd says its warnings
    assertThat((List<?>) info.get("Warnings")).hasSize(1);
    assertThat(obj(call("GET", "/info")).get("ID")).isEqualTo(info.get("ID"));
  }

  @Test
  void eventsBetweenSinceAndUntilInDockersShapeWithFilters() throws Exception {
    long since = Instant.now().getEpochSecond() - 1;
    new UnixHttpClient(d.socket)
        .send(
            "POST",
            "/v1/vms",
            "{\"image\":\"busybox\",\"name\":\"ev\",\"cmd\":[\"sh\",\"-c\",\"exit 3\"]}")
        .text();
    new UnixHttpClient(d.socket).send("POST", "/v1/vms/ev/wait", null).text();
    String until = Instant.now().plusMillis(300).toString();
    var r = call("GET", "/v1.41/events?since=" + since + "&until=" + until);
    assertThat(r.status()).isEqualTo(200);
    List<Map<String, Object>> all = lines(r);
    assertThat(all)
        .extracting(e -> e.get("Type") + " " + e.get("Action"))
        .containsExactly("image pull", "container create", "container start", "container die");
    Map<String, Object> die = all.getLast();
    assertThat(die).containsEntry("status", "die").containsEntry("scope", "local");
    assertThat((Object) at(die, "Actor", "Attributes"))
        .isEqualTo(Map.of("name", "ev", "image", "busybox:latest", "exitCode", "3"));
    assertThat(die.get("id")).isEqualTo(at(die, "Actor", "ID"));
    assertThat(die).containsKeys("time", "timeNano", "from");

    String filters =
        "{\"type\":[\"container\"],\"event\":[\"start\",\"die\"],\"container\":[\"ev\"]}";
    var filtered =
        call(
            "GET",
            "/events?since="
                + since
                + "&until="
                + until
                + "&filters="
                + java.net.URLEncoder.encode(filters, StandardCharsets.UTF_8));
    assertThat(lines(filtered)).extracting(e -> e.get("Action")).containsExactly("start", "die");
    var byImage =
        call(
            "GET",
            "/events?since="
                + since
                + "&until="
                + until
                + "&filters="
                + java.net.URLEncoder.encode("{\"image\":[\"busybox\"]}", StandardCharsets.UTF_8));
    assertThat(lines(byImage)).hasSize(4);
    var bad = call("GET", "/events?filters=%7B%22colour%22%3A%5B%22x%22%5D%7D");
    assertThat(bad.status()).isEqualTo(400);
  }

  @Test
  void pullStreamsDockersProgressThenDigestAndStatus() throws Exception {
    var r = call("POST", "/v1.41/images/create?fromImage=busybox&tag=latest");
    assertThat(r.status()).isEqualTo(200);
    List<Map<String, Object>> ls = lines(r);
    assertThat(ls.getFirst())
        .isEqualTo(Map.of("status", "Pulling from library/busybox", "id", "latest"));
    assertThat(ls)
        .extracting(l -> l.get("status"))
        .contains("Pulling fs layer", "Downloading", "Pull complete");
    Map<String, Object> downloading =
        ls.stream().filter(l -> "Downloading".equals(l.get("status"))).toList().get(1);
    assertThat(at(downloading, "progressDetail", "total").toString()).isEqualTo("1234567");
    String digest = ls.get(ls.size() - 2).get("status").toString();
    assertThat(digest).startsWith("Digest: sha256:");
    assertThat(ls.getLast())
        .containsEntry("status", "Status: Downloaded newer image for busybox:latest");
    var again = lines(call("POST", "/images/create?fromImage=busybox&tag=latest"));
    assertThat(again.getLast())
        .containsEntry("status", "Status: Image is up to date for busybox:latest");
  }

  @Test
  void loadAnswersALoadedImageLinePerImageAndRefusesWhatIsNoArchive() throws Exception {
    // the test daemon's image backend takes a JSON stand-in for an archive (ApiTest does the same)
    byte[] archive =
        "{\"reference\":\"local/app:1\",\"cmd\":[\"true\"]}".getBytes(StandardCharsets.UTF_8);
    var r =
        new UnixHttpClient(d.dockerSocket)
            .send(
                "POST",
                "/v1.41/images/load?quiet=1",
                Map.of("Content-Type", "application/x-tar"),
                new java.io.ByteArrayInputStream(archive),
                archive.length);
    assertThat(r.status()).isEqualTo(200);
    assertThat(lines(r)).containsExactly(Map.of("stream", "Loaded image: local/app:1\n"));
    assertThat(arr(call("GET", "/images/json").text()))
        .anySatisfy(i -> assertThat(at(i, "RepoTags").toString()).contains("local/app:1"));

    byte[] junk = "not an archive".getBytes(StandardCharsets.UTF_8);
    var bad =
        new UnixHttpClient(d.dockerSocket)
            .send(
                "POST",
                "/images/load",
                Map.of("Content-Type", "application/x-tar"),
                new java.io.ByteArrayInputStream(junk),
                junk.length);
    assertThat(bad.status()).isEqualTo(400);
    assertThat(obj(bad).get("message")).asString().isNotBlank();
    var badQuiet = call("POST", "/images/load?quiet=maybe");
    assertThat(badQuiet.status()).isEqualTo(400);
    assertThat(obj(badQuiet)).containsEntry("message", "invalid quiet=maybe: expected a boolean");
  }

  @Test
  void pullFailuresBeforeAndAfterTheStreamBegan() throws Exception {
    var unknown = call("POST", "/images/create?fromImage=busybox&tag=nope");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(obj(unknown).get("message").toString())
        .startsWith("manifest for busybox:nope not found: manifest unknown");
    var bad = call("POST", "/images/create?fromImage=Bad%20Name&tag=x");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(obj(bad).get("message").toString()).contains("invalid reference format");
    var imp = call("POST", "/images/create?fromSrc=-&repo=x");
    assertThat(imp.status()).isEqualTo(400);
    assertThat(obj(imp).get("message").toString()).contains("fromSrc");

    var late = call("POST", "/images/create?fromImage=localhost:5000/broken&tag=1");
    assertThat(late.status()).isEqualTo(200);
    List<Map<String, Object>> ls = lines(late);
    assertThat(ls.getFirst()).containsEntry("status", "Pulling from broken");
    assertThat(ls.getLast())
        .containsEntry("error", "blob unknown: the registry lost a layer")
        .containsEntry("errorDetail", Map.of("message", "blob unknown: the registry lost a layer"));
  }

  @Test
  void registryAuthHeaderLogsInOrIsRefusedClearly() throws Exception {
    String good =
        Base64.getUrlEncoder()
            .encodeToString(
                "{\"username\":\"ann\",\"password\":\"secret\",\"serveraddress\":\"localhost:5000\"}"
                    .getBytes(StandardCharsets.UTF_8));
    var r =
        call(
            "POST",
            "/images/create?fromImage=localhost:5000/team/tool&tag=1",
            Map.of("X-Registry-Auth", good));
    assertThat(r.status()).isEqualTo(200);
    assertThat(lines(r).getLast().get("status").toString()).startsWith("Status: Downloaded");
    assertThat(registry.storedLogin("localhost:5000")).contains("ann:secret");

    String wrong =
        Base64.getUrlEncoder()
            .encodeToString(
                "{\"username\":\"ann\",\"password\":\"nope\"}".getBytes(StandardCharsets.UTF_8));
    var denied =
        call(
            "POST",
            "/images/create?fromImage=localhost:5000/team/tool&tag=1",
            Map.of("X-Registry-Auth", wrong));
    assertThat(denied.status()).isEqualTo(401);
    String token =
        Base64.getUrlEncoder()
            .encodeToString("{\"identitytoken\":\"abc\"}".getBytes(StandardCharsets.UTF_8));
    var tok =
        call(
            "POST",
            "/images/create?fromImage=busybox&tag=latest",
            Map.of("X-Registry-Auth", token));
    assertThat(tok.status()).isEqualTo(400);
    assertThat(obj(tok).get("message").toString()).contains("X-Registry-Auth with a token");
    var garbage =
        call(
            "POST",
            "/images/create?fromImage=busybox&tag=latest",
            Map.of("X-Registry-Auth", "%%%"));
    assertThat(garbage.status()).isEqualTo(400);
    // what clients send without a login: an anonymous pull
    var empty =
        call(
            "POST",
            "/images/create?fromImage=busybox&tag=latest",
            Map.of("X-Registry-Auth", "e30="));
    assertThat(empty.status()).isEqualTo(200);
    assertThat(lines(empty).getLast().get("status").toString()).startsWith("Status: ");
  }

  @Test
  void listInspectAndRemoveImagesWithSlashesInTheirNames() throws Exception {
    call("POST", "/images/create?fromImage=localhost:5000/team/tool&tag=1").text();
    call("POST", "/images/create?fromImage=busybox&tag=latest").text();
    List<Object> list = arr(call("GET", "/v1.44/images/json").text());
    assertThat(list).hasSize(2);
    Map<String, Object> tool = byTag(list, "localhost:5000/team/tool:1");
    assertThat(tool.get("RepoTags")).isEqualTo(List.of("localhost:5000/team/tool:1"));
    assertThat(tool)
        .containsKeys("Id", "ParentId", "RepoDigests", "Created", "Size", "SharedSize", "Labels")
        .containsEntry("Containers", 0L)
        .doesNotContainKey("VirtualSize");
    assertThat(tool.get("Id").toString()).startsWith("sha256:");
    assertThat(((List<?>) tool.get("RepoDigests")).getFirst().toString())
        .startsWith("localhost:5000/team/tool@sha256:");
    Map<String, Object> old =
        byTag(arr(call("GET", "/v1.41/images/json").text()), "localhost:5000/team/tool:1");
    assertThat(old).containsEntry("VirtualSize", old.get("Size"));
    String ref =
        java.net.URLEncoder.encode("{\"reference\":[\"busybox\"]}", StandardCharsets.UTF_8);
    assertThat(arr(call("GET", "/images/json?filters=" + ref).text())).hasSize(1);

    var insp = call("GET", "/v1.44/images/localhost:5000/team/tool:1/json");
    assertThat(insp.status()).isEqualTo(200);
    Map<String, Object> i = obj(insp);
    assertThat(i.get("Id")).isEqualTo(tool.get("Id"));
    assertThat(i).containsEntry("Os", "linux").containsKeys("Architecture", "Size", "Created");
    assertThat(at(i, "Config", "Cmd").toString()).isEqualTo("[tool]");
    assertThat(at(i, "Config", "ExposedPorts").toString()).isEqualTo("{80/tcp={}}");
    assertThat((List<?>) at(i, "Config", "Env")).isNotEmpty();
    assertThat(at(i, "RootFS", "Type").toString()).isEqualTo("layers");
    var byId = call("GET", "/images/" + tool.get("Id") + "/json");
    assertThat(byId.status()).isEqualTo(200);
    call("POST", "/images/create?fromImage=localhost:5000/labelled&tag=2").text();
    Map<String, Object> labelled = obj(call("GET", "/images/localhost:5000/labelled:2/json"));
    assertThat(labelled).containsEntry("Architecture", "arm64").containsEntry("Os", "linux");
    assertThat((Object) at(labelled, "Config", "Labels"))
        .isEqualTo(Map.of("team", "core", "tier", "db"));
    assertThat((Object) at(labelled, "Config", "WorkingDir")).isEqualTo("/srv");
    assertThat((Object) at(labelled, "Config", "User")).isEqualTo("app");
    assertThat((Object) at(labelled, "Config", "StopSignal")).isEqualTo("SIGINT");
    assertThat((Object) at(labelled, "Config", "Volumes")).isEqualTo(Map.of("/data", Map.of()));
    String both =
        java.net.URLEncoder.encode("{\"label\":[\"team=core\",\"tier\"]}", StandardCharsets.UTF_8);
    assertThat(arr(call("GET", "/images/json?filters=" + both).text()))
        .singleElement()
        .satisfies(x -> assertThat(x.toString()).contains("localhost:5000/labelled:2"));
    String other =
        java.net.URLEncoder.encode("{\"label\":[\"team=core\",\"x\"]}", StandardCharsets.UTF_8);
    assertThat(arr(call("GET", "/images/json?filters=" + other).text())).isEmpty();
    assertThat(call("DELETE", "/images/localhost:5000/labelled:2").status()).isEqualTo(200);

    var missing = call("GET", "/images/nope:1/json");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(obj(missing)).containsEntry("message", "No such image: nope:1");

    // a VM made from busybox keeps it: dockerd's 409 words
    new UnixHttpClient(d.socket)
        .send(
            "POST",
            "/v1/vms",
            "{\"image\":\"busybox\",\"name\":\"user\",\"cmd\":[\"sh\",\"-c\",\"exit 0\"]}")
        .text();
    new UnixHttpClient(d.socket).send("POST", "/v1/vms/user/wait", null).text();
    var inUse = call("DELETE", "/v1.41/images/busybox");
    assertThat(inUse.status()).isEqualTo(409);
    assertThat(obj(inUse).get("message").toString())
        .startsWith(
            "conflict: unable to remove repository reference \"busybox\" (must force) - container ");
    var rm = call("DELETE", "/images/localhost:5000/team/tool:1?force=0&noprune=0");
    assertThat(rm.status()).isEqualTo(200);
    List<Object> gone = arr(rm.text());
    assertThat(gone.getFirst()).isEqualTo(Map.of("Untagged", "localhost:5000/team/tool:1"));
    assertThat(gone.getLast()).isEqualTo(Map.of("Deleted", tool.get("Id")));
    assertThat(call("DELETE", "/images/localhost:5000/team/tool:1").status()).isEqualTo(404);
    assertThat(arr(call("GET", "/images/json").text())).hasSize(1);
  }

  /** The in-memory registry, plus one image whose pull fails once its stream has begun. */
  record Failing(MemoryImageBackend inner) implements ImageBackend {
    @Override
    public ImageInfo pull(String reference, String platform, ProgressListener progress)
        throws BackendException {
      if (reference.contains("broken")) {
        progress.progress("Pulling " + reference + " (1 layers)", null, -1, -1);
        progress.progress("Downloading", "abc", 1, 10);
        throw new BackendException(
            BackendException.Kind.NOT_FOUND, "blob unknown: the registry lost a layer");
      }
      return inner.pull(reference, platform, progress);
    }

    @Override
    public List<ImageInfo> list() {
      return inner.list();
    }

    @Override
    public Optional<ImageInfo> find(String reference) throws BackendException {
      return inner.find(reference);
    }

    @Override
    public void remove(String reference) throws BackendException {
      inner.remove(reference);
    }

    @Override
    public ImageInfo tag(String source, String target) throws BackendException {
      return inner.tag(source, target);
    }

    @Override
    public List<dev.inferno.model.ImageHistoryEntry> history(String reference)
        throws BackendException {
      return inner.history(reference);
    }

    @Override
    public List<ImageInfo> load(InputStream tar, ProgressListener progress)
        throws BackendException {
      return inner.load(tar, progress);
    }

    @Override
    public void save(List<String> refs, java.io.OutputStream out) throws java.io.IOException {
      inner.save(refs, out);
    }

    @Override
    public String login(String server, String username, String password) throws BackendException {
      return inner.login(server, username, password);
    }

    @Override
    public boolean logout(String server) {
      return inner.logout(server);
    }
  }
}
