package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.stream.Multiplexed;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Docker API's container routes over the real docker.sock, against the process backend. */
class DockerContainersApiTest {
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

  JsonNode tree(UnixHttpClient.Response r) throws Exception {
    return json.readTree(r.text());
  }

  /** Creates a busybox container running {@code sh -c script}; returns its id. */
  String create(String name, String script, String extra) throws Exception {
    String body =
        "{\"Image\":\"busybox\",\"Cmd\":[\"sh\",\"-c\","
            + json.writeValueAsString(script)
            + "]"
            + (extra.isEmpty() ? "" : "," + extra)
            + "}";
    var r = call("POST", "/v1.44/containers/create" + (name == null ? "" : "?name=" + name), body);
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(201);
    JsonNode created = json.readTree(text);
    assertThat(created.get("Warnings").isArray()).isTrue();
    return created.get("Id").asText();
  }

  @Test
  void createWaitStartThenExitCodeAsDockerRunDoes() throws Exception {
    String id = create("w1", "echo hi; exit 3", "\"Labels\":{\"a\":\"b\"}");
    // docker run: the wait is answered (headers) before the start, its body after the exit
    var wait = call("POST", "/v1.41/containers/w1/wait?condition=next-exit", null);
    assertThat(wait.status()).isEqualTo(200);
    assertThat(call("POST", "/v1.41/containers/" + id + "/start", null).status()).isEqualTo(204);
    JsonNode w = tree(wait);
    assertThat(w.get("StatusCode").asInt()).isEqualTo(3);
    assertThat(w.get("Error").isNull()).isTrue();
    // started again, it runs; a second start is 304
    assertThat(call("POST", "/containers/w1/start", null).status()).isEqualTo(204);
    tree(call("POST", "/containers/w1/wait", null));
    var again = call("POST", "/containers/" + id + "/wait?condition=not-running", null);
    assertThat(tree(again).get("StatusCode").asInt()).isEqualTo(3);
  }

  @Test
  void eventsCarryTheContainersLabelsSoTheLabelFilterFindsThem() throws Exception {
    long since = java.time.Instant.now().getEpochSecond() - 1;
    String id = create("lab", "true", "\"Labels\":{\"tc\":\"yes\",\"name\":\"shadowed\"}");
    create("nolab", "true", "");
    long until = java.time.Instant.now().getEpochSecond() + 1;
    String filter =
        java.net.URLEncoder.encode(
            "{\"label\":[\"tc=yes\"]}", java.nio.charset.StandardCharsets.UTF_8);
    var r = call("GET", "/events?since=" + since + "&until=" + until + "&filters=" + filter, null);
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(200);
    List<JsonNode> events = new java.util.ArrayList<>();
    for (String line : text.split("\n")) {
      if (!line.isBlank()) {
        events.add(json.readTree(line));
      }
    }
    assertThat(events).isNotEmpty();
    assertThat(events).allSatisfy(e -> assertThat(e.at("/Actor/ID").asText()).isEqualTo(id));
    JsonNode create = events.getFirst();
    assertThat(create.get("Action").asText()).isEqualTo("create");
    // the labels, then name and image over them, as dockerd
    assertThat(create.at("/Actor/Attributes/tc").asText()).isEqualTo("yes");
    assertThat(create.at("/Actor/Attributes/name").asText()).isEqualTo("lab");
  }

  /** HostPort "" (docker -p 80, Testcontainers) is a random host port, as "0" is. */
  @Test
  void inspectShape() throws Exception {
    String id =
        create(
            "insp",
            "sleep 30",
            "\"Env\":[\"A=1\"],\"Labels\":{\"team\":\"x\"},\"Tty\":false,\"OpenStdin\":false,"
                + "\"StopTimeout\":1,\"ExposedPorts\":{\"80/tcp\":{}},"
                + "\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]},"
                + "\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"Privileged\":false,"
                + "\"ConsoleSize\":[0,0],\"MemorySwappiness\":-1,\"NetworkMode\":\"default\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}}},"
                + "\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{\"Aliases\":null,\"IPAddress\":\"\"}}}");
    JsonNode created = tree(call("GET", "/containers/insp/json", null));
    assertThat(created.get("Id").asText()).isEqualTo(id);
    assertThat(created.get("Name").asText()).isEqualTo("/insp");
    assertThat(created.at("/State/Status").asText()).isEqualTo("created");
    assertThat(created.at("/State/Running").asBoolean()).isFalse();
    assertThat(created.at("/State/StartedAt").asText()).isEqualTo(DockerTime.ZERO);
    assertThat(created.at("/Config/Labels/team").asText()).isEqualTo("x");
    assertThat(created.at("/Config/Image").asText()).isEqualTo("busybox:latest");
    assertThat(created.at("/Config/Cmd/0").asText()).isEqualTo("sh");
    assertThat(created.at("/Config/StopTimeout").asInt()).isEqualTo(1);
    assertThat(created.at("/Path").asText()).isEqualTo("sh");
    assertThat(created.at("/Args/1").asText()).isEqualTo("sleep 30");
    assertThat(created.at("/Config/Env").toString()).contains("\"A=1\"");
    assertThat(created.at("/HostConfig/RestartPolicy/Name").asText()).isEqualTo("no");
    assertThat(created.at("/HostConfig/PortBindings/80~1tcp/0/HostPort").asText()).isEmpty();
    assertThat(created.at("/NetworkSettings/Ports").isObject()).isTrue();
    assertThat(created.at("/NetworkSettings/Ports").size()).isZero();

    assertThat(call("POST", "/containers/insp/start", null).status()).isEqualTo(204);
    JsonNode running = tree(call("GET", "/v1.44/containers/" + id.substring(0, 8) + "/json", null));
    assertThat(running.at("/State/Status").asText()).isEqualTo("running");
    assertThat(running.at("/State/Running").asBoolean()).isTrue();
    assertThat(running.at("/State/Pid").asLong()).isPositive();
    assertThat(running.at("/State/StartedAt").asText()).isNotEqualTo(DockerTime.ZERO);
    JsonNode port = running.at("/NetworkSettings/Ports/80~1tcp/0");
    assertThat(port.get("HostIp").asText()).isEqualTo("0.0.0.0");
    assertThat(port.get("HostPort").asInt()).isPositive();
    assertThat(running.at("/NetworkSettings/IPAddress").asText())
        .matches("\\d+\\.\\d+\\.\\d+\\.\\d+");
    assertThat(running.at("/NetworkSettings/Networks/bridge/IPAddress").asText())
        .isEqualTo(running.at("/NetworkSettings/IPAddress").asText());

    // stop: 204, then 304 when not running; the exit shows in State
    assertThat(call("POST", "/containers/insp/stop?t=1", null).status()).isEqualTo(204);
    assertThat(call("POST", "/containers/insp/stop?t=1", null).status()).isEqualTo(304);
    JsonNode stopped = tree(call("GET", "/containers/insp/json", null));
    assertThat(stopped.at("/State/Status").asText()).isEqualTo("exited");
    assertThat(stopped.at("/State/ExitCode").asInt()).isEqualTo(143);
    assertThat(stopped.at("/State/FinishedAt").asText()).isNotEqualTo(DockerTime.ZERO);
    assertThat(stopped.at("/NetworkSettings/Ports").size()).isZero();
  }

  @Test
  void listWithFilters() throws Exception {
    create("l-run", "sleep 30", "\"Labels\":{\"tier\":\"web\"}");
    create("l-created", "true", "\"Labels\":{\"tier\":\"db\"}");
    call("POST", "/containers/l-run/start", null).text();

    List<String> running = names(tree(call("GET", "/containers/json", null)));
    assertThat(running).containsExactly("/l-run");
    assertThat(names(tree(call("GET", "/containers/json?all=1", null))))
        .containsExactlyInAnyOrder("/l-run", "/l-created");
    assertThat(names(tree(list("{\"label\":[\"tier=db\"]}")))).containsExactly("/l-created");
    assertThat(names(tree(list("{\"label\":{\"tier\":true}}")))).hasSize(2);
    assertThat(names(tree(list("{\"status\":[\"created\"]}")))).containsExactly("/l-created");
    assertThat(names(tree(list("{\"name\":[\"run\"]}")))).containsExactly("/l-run");
    assertThat(names(tree(list("{\"ancestor\":[\"busybox\"]}")))).hasSize(2);
    assertThat(names(tree(list("{\"ancestor\":[\"alpine:3.20\"]}")))).isEmpty();
    String id = tree(call("GET", "/containers/l-run/json", null)).get("Id").asText();
    assertThat(names(tree(list("{\"id\":[\"" + id.substring(0, 5) + "\"]}"))))
        .containsExactly("/l-run");

    JsonNode one = tree(call("GET", "/containers/json?all=true", null));
    for (JsonNode c : one) {
      if (c.at("/Names/0").asText().equals("/l-run")) {
        assertThat(c.get("State").asText()).isEqualTo("running");
        assertThat(c.get("Status").asText()).startsWith("Up ");
        assertThat(c.get("Labels").get("tier").asText()).isEqualTo("web");
        assertThat(c.get("Image").asText()).isEqualTo("busybox:latest");
        assertThat(c.get("Created").asLong()).isPositive();
      } else {
        assertThat(c.get("Status").asText()).isEqualTo("Created");
      }
    }
    var bad = list("{\"colour\":[\"red\"]}");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(tree(bad).get("message").asText()).contains("colour");
    assertThat(list("{\"status\":[\"sleeping\"]}").status()).isEqualTo(400);
  }

  UnixHttpClient.Response list(String filters) throws Exception {
    return call(
        "GET",
        "/containers/json?all=1&filters=" + URLEncoder.encode(filters, StandardCharsets.UTF_8),
        null);
  }

  static List<String> names(JsonNode list) {
    List<String> out = new ArrayList<>();
    list.forEach(c -> out.add(c.at("/Names/0").asText()));
    return out;
  }

  @Test
  void stopKillRemoveCodes() throws Exception {
    create("k1", "sleep 30", "");
    // kill of a container not running: 409
    var notRunning = call("POST", "/containers/k1/kill", null);
    assertThat(notRunning.status()).isEqualTo(409);
    assertThat(tree(notRunning).get("message").asText()).contains("is not running");
    call("POST", "/containers/k1/start", null).text();
    // rm of a running one without force: 409; kill: 204 and exit 137
    var busy = call("DELETE", "/containers/k1", null);
    assertThat(busy.status()).isEqualTo(409);
    assertThat(tree(busy).get("message").asText()).contains("container is running");
    assertThat(call("POST", "/containers/k1/kill?signal=SIGKILL", null).status()).isEqualTo(204);
    assertThat(tree(call("POST", "/containers/k1/wait", null)).get("StatusCode").asInt())
        .isEqualTo(137);
    // restart runs it again; rm -f removes it running
    assertThat(call("POST", "/containers/k1/restart?t=1", null).status()).isEqualTo(204);
    assertThat(tree(call("GET", "/containers/k1/json", null)).at("/State/Running").asBoolean())
        .isTrue();
    assertThat(call("DELETE", "/containers/k1?force=1&v=1", null).status()).isEqualTo(204);
    assertThat(call("GET", "/containers/k1/json", null).status()).isEqualTo(404);
  }

  @Test
  void autoRemoveIsGoneAfterTheWaitForRemoved() throws Exception {
    String id = create(null, "exit 5", "\"HostConfig\":{\"AutoRemove\":true}");
    var wait = call("POST", "/containers/" + id + "/wait?condition=removed", null);
    assertThat(wait.status()).isEqualTo(200);
    call("POST", "/containers/" + id + "/start", null).text();
    assertThat(tree(wait).get("StatusCode").asInt()).isEqualTo(5);
    assertThat(call("GET", "/containers/" + id + "/json", null).status()).isEqualTo(404);
  }

  @Test
  void attachBeforeStartGetsAllOutputMultiplexed() throws Exception {
    String id = create("att", "echo out; echo err >&2; exit 0", "\"AttachStdout\":true");
    var attach =
        new UnixHttpClient(d.dockerSocket)
            .upgrade(
                "POST", "/v1.41/containers/att/attach?stream=1&stdout=1&stderr=1", Map.of(), null);
    assertThat(attach.status()).isEqualTo(101);
    assertThat(attach.headers().get("content-type")).isEqualTo(Multiplexed.MEDIA_TYPE);
    var wait = call("POST", "/containers/att/wait?condition=next-exit", null);
    assertThat(call("POST", "/containers/" + id + "/start", null).status()).isEqualTo(204);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    demux(attach.body(), out, err);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("out\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("err\n");
    assertThat(tree(wait).get("StatusCode").asInt()).isZero();
  }

  @Test
  void hostHeaderOfTheDebianClientsHijackIsTaken() throws Exception {
    // docker 20.10's attach sets Host to the socket's path (what Go's client makes of unix://…)
    create("hj", "echo hijacked", "");
    String head =
        "POST /v1.41/containers/hj/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
            + "Host: "
            + d.dockerSocket
            + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n";
    var r = new UnixHttpClient(d.dockerSocket).sendRaw(head.getBytes(StandardCharsets.UTF_8), null);
    assertThat(r.status()).isEqualTo(101);
    r.close();
    // and docker 20.10's own: an empty Host
    var blank =
        new UnixHttpClient(d.dockerSocket)
            .sendRaw(
                "GET /containers/hj/json HTTP/1.1\r\nHost: \r\n\r\n"
                    .getBytes(StandardCharsets.UTF_8),
                null);
    assertThat(blank.status()).isEqualTo(200);
    blank.close();
  }

  /** Reads Docker's multiplexed stream to its end. */
  static void demux(InputStream in, ByteArrayOutputStream out, ByteArrayOutputStream err)
      throws Exception {
    DataInputStream d = new DataInputStream(in);
    while (true) {
      byte[] head = new byte[8];
      try {
        d.readFully(head);
      } catch (EOFException e) {
        return;
      }
      int len =
          ((head[4] & 0xff) << 24)
              | ((head[5] & 0xff) << 16)
              | ((head[6] & 0xff) << 8)
              | (head[7] & 0xff);
      byte[] payload = new byte[len];
      d.readFully(payload);
      (head[0] == 2 ? err : out).write(payload);
    }
  }

  @Test
  void badInput() throws Exception {
    var malformed = call("POST", "/containers/create", "{\"Image\":");
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(tree(malformed).get("message").asText()).contains("malformed JSON");

    var privileged =
        call(
            "POST",
            "/containers/create?name=p",
            "{\"Image\":\"busybox\",\"HostConfig\":{\"Privileged\":true}}");
    assertThat(privileged.status()).isEqualTo(400);
    assertThat(tree(privileged).get("message").asText())
        .startsWith("HostConfig.Privileged is not supported");
    var cpuShares =
        call(
            "POST",
            "/containers/create",
            "{\"Image\":\"busybox\",\"HostConfig\":{\"CpuShares\":512}}");
    assertThat(tree(cpuShares).get("message").asText()).contains("HostConfig.CpuShares");
    var swappiness =
        call(
            "POST",
            "/containers/create",
            "{\"Image\":\"busybox\",\"HostConfig\":{\"MemorySwappiness\":60}}");
    assertThat(swappiness.status()).isEqualTo(400);
    assertThat(tree(swappiness).get("message").asText())
        .startsWith("HostConfig.MemorySwappiness is not supported");
    var hostNet =
        call(
            "POST",
            "/containers/create",
            "{\"Image\":\"busybox\",\"HostConfig\":{\"NetworkMode\":\"host\"}}");
    assertThat(hostNet.status()).isEqualTo(400);
    assertThat(tree(hostNet).get("message").asText()).contains("NetworkMode=host");
    var bind =
        call(
            "POST",
            "/containers/create",
            "{\"Image\":\"busybox\",\"HostConfig\":{\"Binds\":[\"/etc:/host\"]}}");
    assertThat(bind.status()).isEqualTo(400);
    assertThat(tree(bind).get("message").asText()).contains("cannot share a host directory");
    // nothing was created by the refusals
    assertThat(tree(call("GET", "/containers/json?all=1", null)).size()).isZero();

    var missingImage = call("POST", "/containers/create", "{\"Image\":\"nosuch:1\"}");
    assertThat(missingImage.status()).isEqualTo(404);
    assertThat(tree(missingImage).get("message").asText()).isEqualTo("No such image: nosuch:1");

    var unknown = call("GET", "/containers/nope/json", null);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(tree(unknown).get("message").asText()).isEqualTo("No such container: nope");
    assertThat(call("POST", "/v1.41/containers/nope/start", null).status()).isEqualTo(404);
    assertThat(call("POST", "/containers/nope/wait", null).status()).isEqualTo(404);

    create("taken", "true", "");
    var conflict = call("POST", "/containers/create?name=taken", "{\"Image\":\"busybox\"}");
    assertThat(conflict.status()).isEqualTo(409);
    assertThat(tree(conflict).get("message").asText())
        .contains("The container name \"/taken\" is already in use");
    var badWait = call("POST", "/containers/taken/wait?condition=sometime", null);
    assertThat(badWait.status()).isEqualTo(400);
  }
}
