package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker volume ls|create|inspect|rm} on the Docker socket: dockerd's shapes, filters and
 * error words, onto the same volumes the inferno API shows; every bad input refused before anything
 * is made.
 */
class DockerVolumesApiTest {
  @TempDir Path dir;
  TestDaemon d;
  final ObjectMapper json = new ObjectMapper();

  @BeforeEach
  void setUp() throws Exception {
    d = new TestDaemon(dir, PeerPolicy.ALLOW_ALL);
  }

  @AfterEach
  void tearDown() throws Exception {
    d.close();
  }

  UnixHttpClient.Response call(String method, String path, String body) throws Exception {
    return d.docker(method, path, body);
  }

  JsonNode expect(int status, UnixHttpClient.Response r) throws Exception {
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(status);
    return text.isEmpty() ? null : json.readTree(text);
  }

  /** The error message of a refused call, checking its status. */
  String refused(int status, String method, String path, String body) throws Exception {
    return expect(status, call(method, path, body)).get("message").asText();
  }

  void pull() throws Exception {
    var pulled =
        new UnixHttpClient(d.socket).send("POST", "/v1/images/pull", "{\"reference\":\"busybox\"}");
    assertThat(pulled.text()).contains("Done");
  }

  static String filters(String raw) {
    return "?filters=" + URLEncoder.encode(raw, StandardCharsets.UTF_8);
  }

  List<String> names(String query) throws Exception {
    JsonNode r = expect(200, call("GET", "/v1.44/volumes" + query, null));
    assertThat(r.get("Warnings").isArray()).isTrue();
    return r.get("Volumes").findValuesAsText("Name");
  }

  @Test
  void createInspectAndListInDockersShape() throws Exception {
    // what docker 20.10 sends for `docker volume create --label a=b -o size=10m data`
    JsonNode v =
        expect(
            201,
            call(
                "POST",
                "/v1.41/volumes/create",
                "{\"Driver\":\"local\",\"DriverOpts\":{\"size\":\"10m\"},"
                    + "\"Labels\":{\"a\":\"b\"},\"Name\":\"data\"}"));
    assertThat(v.get("Name").asText()).isEqualTo("data");
    assertThat(v.get("Driver").asText()).isEqualTo("local");
    assertThat(v.get("Scope").asText()).isEqualTo("local");
    assertThat(v.get("Labels").toString()).isEqualTo("{\"a\":\"b\"}");
    assertThat(v.get("Options").toString()).isEqualTo("{\"size\":\"" + (10 << 20) + "\"}");
    assertThat(Path.of(v.get("Mountpoint").asText())).isRegularFile();
    assertThat(Files.size(Path.of(v.get("Mountpoint").asText()))).isEqualTo(10 << 20);
    Instant created = Instant.parse(v.get("CreatedAt").asText());
    assertThat(created).isBetween(Instant.now().minusSeconds(60), Instant.now());

    // idempotent as dockerd: the same name again is the volume as it is (labels unchanged)
    JsonNode again =
        expect(
            201,
            call("POST", "/volumes/create", "{\"Name\":\"data\",\"Labels\":{\"other\":\"x\"}}"));
    assertThat(again).isEqualTo(v);
    assertThat(expect(200, call("GET", "/volumes/data", null))).isEqualTo(v);
    // one service: the inferno API sees the same volume
    var infernoView = new UnixHttpClient(d.socket).send("GET", "/v1/volumes/data", null);
    assertThat(infernoView.status()).isEqualTo(200);
    assertThat(json.readTree(infernoView.text()).get("sizeBytes").asLong()).isEqualTo(10 << 20);

    // docker 28 leaves out what is empty: `docker volume create` sends only the driver
    JsonNode anon = expect(201, call("POST", "/v1.44/volumes/create", "{\"Driver\":\"local\"}"));
    String anonName = anon.get("Name").asText();
    assertThat(anonName).matches("[0-9a-f]{64}");
    assertThat(anon.get("Labels").toString()).isEqualTo("{\"com.docker.volume.anonymous\":\"\"}");
    assertThat(names("")).containsExactlyInAnyOrder("data", anonName);
    // docker volume prune (no all): only the anonymous one, as dockerd
    JsonNode pruned = expect(200, call("POST", "/volumes/prune", null));
    assertThat(pruned.get("VolumesDeleted").toString()).isEqualTo("[\"" + anonName + "\"]");
    assertThat(names("")).containsExactly("data");
  }

  @Test
  void listFilters() throws Exception {
    for (String n : new String[] {"web-data", "web-logs", "db"}) {
      String labels = n.startsWith("web") ? "{\"app\":\"web\"}" : "{\"app\":\"db\"}";
      expect(
          201,
          call("POST", "/volumes/create", "{\"Name\":\"" + n + "\",\"Labels\":" + labels + "}"));
    }
    // a container mounting db makes it not dangling
    pull();
    expect(
        201,
        call(
            "POST",
            "/containers/create?name=user",
            "{\"Image\":\"busybox\",\"Cmd\":[\"true\"],\"HostConfig\":{\"Binds\":[\"db:/db\"]}}"));

    assertThat(names(filters("{\"name\":[\"db\"]}"))).containsExactly("db");
    // dockerd's name filter is also a regular expression found in the name
    assertThat(names(filters("{\"name\":[\"^web-\"]}")))
        .containsExactlyInAnyOrder("web-data", "web-logs");
    assertThat(names(filters("{\"label\":[\"app=web\"]}")))
        .containsExactlyInAnyOrder("web-data", "web-logs");
    assertThat(names(filters("{\"label\":[\"app\"],\"name\":[\"logs\"]}")))
        .containsExactly("web-logs");
    assertThat(names(filters("{\"driver\":[\"local\"]}"))).hasSize(3);
    assertThat(names(filters("{\"driver\":[\"nfs\"]}"))).isEmpty();
    // both CLIs send dangling in the older map form
    assertThat(names(filters("{\"dangling\":{\"true\":true}}")))
        .containsExactlyInAnyOrder("web-data", "web-logs");
    assertThat(names(filters("{\"dangling\":[\"0\"]}"))).containsExactly("db");

    assertThat(refused(400, "GET", "/volumes" + filters("{\"dangling\":[\"maybe\"]}"), null))
        .startsWith("invalid filter 'dangling=[maybe]'");
    assertThat(refused(400, "GET", "/volumes" + filters("{\"colour\":[\"red\"]}"), null))
        .contains("colour");
    assertThat(refused(400, "GET", "/volumes?filters=nope", null)).contains("invalid filters");
  }

  @Test
  void badCreatesAreRefusedBeforeAnythingIsMade() throws Exception {
    assertThat(refused(404, "POST", "/volumes/create", "{\"Name\":\"v1\",\"Driver\":\"nfs\"}"))
        .startsWith("create v1: error looking up volume plugin nfs: plugin \"nfs\" not found");
    assertThat(
            refused(
                400,
                "POST",
                "/volumes/create",
                "{\"Name\":\"v1\",\"DriverOpts\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\"}}"))
        .startsWith("create v1: invalid option: \"")
        .contains("size");
    assertThat(
            refused(
                400,
                "POST",
                "/volumes/create",
                "{\"Name\":\"v1\",\"DriverOpts\":{\"size\":\"lots\"}}"))
        .startsWith("create v1: invalid size \"lots\"");
    // below the smallest useful ext4: VolumeService's rule, in dockerd's "create NAME:" frame
    assertThat(
            refused(
                400,
                "POST",
                "/volumes/create",
                "{\"Name\":\"v1\",\"DriverOpts\":{\"size\":\"1k\"}}"))
        .startsWith("create v1: invalid volume size 1024");
    assertThat(refused(400, "POST", "/volumes/create", "{\"Name\":\"a\"}"))
        .isEqualTo(
            "create a: volume name is too short, names should be at least two alphanumeric"
                + " characters");
    assertThat(refused(400, "POST", "/volumes/create", "{\"Name\":\"a$b\"}"))
        .startsWith("create a$b: \"a$b\" includes invalid characters for a local volume name");
    assertThat(refused(400, "POST", "/volumes/create", "{\"Name\":\"v1\",\"Labels\":{\"a\":1}}"))
        .contains("Labels.a");
    assertThat(refused(400, "POST", "/volumes/create", "{\"Name\":\"v1\",\"Colour\":\"red\"}"))
        .startsWith("Colour is not supported");
    assertThat(
            refused(
                503,
                "POST",
                "/volumes/create",
                "{\"Name\":\"v1\",\"ClusterVolumeSpec\":{\"Group\":\"g\"}}"))
        .startsWith("This node is not a swarm manager.");
    assertThat(refused(400, "POST", "/volumes/create", "{\"Name\":")).contains("malformed JSON");
    // a zero field a client serializes whole is fine
    expect(201, call("POST", "/volumes/create", "{\"Name\":\"v2\",\"ClusterVolumeSpec\":null}"));
    // nothing of the refused ones was made
    assertThat(names("")).containsExactly("v2");
  }

  @Test
  void inspectAndRemoveAnswerAsDockerd() throws Exception {
    assertThat(refused(404, "GET", "/volumes/nope", null)).isEqualTo("get nope: no such volume");
    assertThat(refused(404, "DELETE", "/volumes/nope", null)).isEqualTo("get nope: no such volume");
    expect(204, call("DELETE", "/volumes/nope?force=1", null));
    assertThat(refused(400, "DELETE", "/volumes/nope?force=perhaps", null)).contains("force");

    expect(201, call("POST", "/volumes/create", "{\"Name\":\"held\"}"));
    pull();
    String id =
        expect(
                201,
                call(
                    "POST",
                    "/containers/create?name=holder",
                    "{\"Image\":\"busybox\",\"Cmd\":[\"true\"],"
                        + "\"HostConfig\":{\"Binds\":[\"held:/data:ro\"]}}"))
            .get("Id")
            .asText();
    // in use by a container in any state, with or without force: dockerd's words and the ids
    assertThat(refused(409, "DELETE", "/volumes/held", null))
        .isEqualTo("remove held: volume is in use - [" + id + "]");
    assertThat(refused(409, "DELETE", "/volumes/held?force=1", null))
        .isEqualTo("remove held: volume is in use - [" + id + "]");
    expect(200, call("GET", "/volumes/held", null));

    expect(204, call("DELETE", "/containers/holder", null));
    expect(204, call("DELETE", "/volumes/held", null));
    assertThat(refused(404, "GET", "/volumes/held", null)).isEqualTo("get held: no such volume");
  }

  /** The events stream's JSON lines between since and until, with these filters. */
  List<JsonNode> events(long since, String until, String filters) throws Exception {
    String text =
        call(
                "GET",
                "/v1.44/events?since="
                    + since
                    + "&until="
                    + until
                    + "&"
                    + filters(filters).substring(1),
                null)
            .text();
    List<JsonNode> out = new java.util.ArrayList<>();
    for (String l : text.split("\n")) {
      if (!l.isBlank()) {
        out.add(json.readTree(l));
      }
    }
    return out;
  }

  @Test
  void volumeEventsCreateMountUnmountDestroyWithTheirFilters() throws Exception {
    pull();
    long since = Instant.now().getEpochSecond() - 1;
    expect(201, call("POST", "/volumes/create", "{\"Name\":\"evvol\"}"));
    expect(201, call("POST", "/volumes/create", "{\"Name\":\"other\"}"));
    String id =
        expect(
                201,
                call(
                    "POST",
                    "/containers/create?name=user",
                    "{\"Image\":\"busybox\",\"Cmd\":[\"true\"],"
                        + "\"HostConfig\":{\"Binds\":[\"evvol:/data:ro\"]}}"))
            .get("Id")
            .asText();
    expect(204, call("POST", "/containers/user/start", null));
    new UnixHttpClient(d.socket).send("POST", "/v1/vms/user/wait", null).text();
    expect(204, call("DELETE", "/containers/user", null));
    expect(204, call("DELETE", "/volumes/evvol", null));
    String until = Instant.now().plusMillis(300).toString();

    List<JsonNode> ev = events(since, until, "{\"type\":[\"volume\"],\"volume\":[\"evvol\"]}");

    assertThat(ev)
        .extracting(e -> e.get("Action").asText())
        .containsExactly("create", "mount", "unmount", "destroy");
    for (JsonNode e : ev) {
      assertThat(e.get("Type").asText()).isEqualTo("volume");
      assertThat(e.get("Actor").get("ID").asText()).isEqualTo("evvol");
      assertThat(e.get("scope").asText()).isEqualTo("local");
      assertThat(e.has("status")).isFalse(); // dockerd's legacy fields: containers, images only
    }
    assertThat(ev.get(0).get("Actor").get("Attributes").toString())
        .isEqualTo("{\"driver\":\"local\"}");
    assertThat(json.convertValue(ev.get(1).get("Actor").get("Attributes"), java.util.Map.class))
        .isEqualTo(
            java.util.Map.of(
                "driver", "local", "container", id, "destination", "/data", "read/write", "false"));
    assertThat(json.convertValue(ev.get(2).get("Actor").get("Attributes"), java.util.Map.class))
        .isEqualTo(java.util.Map.of("driver", "local", "container", id));

    // the other volume's create only; event=destroy across volumes: evvol's
    assertThat(events(since, until, "{\"volume\":[\"other\"]}"))
        .extracting(e -> e.get("Action").asText())
        .containsExactly("create");
    assertThat(events(since, until, "{\"type\":[\"volume\"],\"event\":[\"destroy\"]}"))
        .extracting(e -> e.get("Actor").get("ID").asText())
        .containsExactly("evvol");
    // a container filter sees the container's events, not the volume's
    assertThat(events(since, until, "{\"container\":[\"user\"]}"))
        .extracting(e -> e.get("Type").asText())
        .containsOnly("container");

    // the inferno API's stream has them too, and its volume= and vm= filters
    String inferno =
        new UnixHttpClient(d.socket)
            .send(
                "GET",
                "/v1/events?since=" + since + "&until=" + until + "&filter=volume=evvol",
                null)
            .text();
    assertThat(
            inferno
                .lines()
                .filter(l -> !l.isBlank())
                .map(l -> l.replaceAll(".*\"type\":\"([^\"]+)\".*", "$1")))
        .containsExactly("volume-created", "volume-mounted", "volume-unmounted", "volume-removed");
    String byVm =
        new UnixHttpClient(d.socket)
            .send(
                "GET",
                "/v1/events?since="
                    + since
                    + "&until="
                    + until
                    + "&filter=vm=user&filter=type=volume-mounted",
                null)
            .text();
    assertThat(byVm).contains("\"id\":\"evvol\"").contains("\"destination\":\"/data\"");
  }
}
