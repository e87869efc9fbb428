package dev.inferno.daemon.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.testing.MemoryImageBackend;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import dev.inferno.model.stream.Frame;
import java.io.EOFException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API over the real unix socket, against the process backend and in-memory images. */
class ApiTest {
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

  static String run(String name, String script) {
    return "{\"image\":\"busybox\",\"name\":\""
        + name
        + "\",\"cmd\":[\"sh\",\"-c\",\""
        + script
        + "\"]}";
  }

  @Test
  void socketIsGroupOnly() throws Exception {
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(d.socket)))
        .isEqualTo("rw-rw----");
  }

  @Test
  void versionAndInfo() throws Exception {
    var r = call("GET", "/v1/version", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers().get("content-type")).startsWith("application/json");
    assertThat(json(r)).containsEntry("apiVersion", "v1").containsEntry("os", "linux");
    call("POST", "/v1/vms", run("one", "exit 0")).text();
    Map<String, Object> info = json(call("GET", "/v1/info", null));
    assertThat(info)
        .containsEntry("vms", 1L)
        .containsEntry("kvm", false)
        .containsEntry("vmm", "process");
  }

  @Test
  void createInspectListWaitRemove() throws Exception {
    var r = call("POST", "/v1/vms", run("web", "echo hello; exit 7"));
    assertThat(r.status()).isEqualTo(201);
    Map<String, Object> created = json(r);
    String id = (String) created.get("id");
    assertThat(id).matches("[0-9a-f]{16}");
    assertThat(created).containsEntry("name", "web");

    r = call("POST", "/v1/vms/" + id.substring(0, 6) + "/wait", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(json(r)).containsEntry("code", 7L);

    Map<String, Object> detail = json(call("GET", "/v1/vms/web", null));
    assertThat(detail).containsEntry("id", id).containsEntry("state", "exited");
    @SuppressWarnings("unchecked")
    Map<String, Object> req = (Map<String, Object>) detail.get("request");
    assertThat(req).containsEntry("stopSignal", "SIGTERM").containsEntry("stopTimeoutSeconds", 2L);

    assertThat(Json.parse(call("GET", "/v1/vms", null).text())).isEqualTo(List.of());
    assertThat((List<?>) Json.parse(call("GET", "/v1/vms?all=true", null).text())).hasSize(1);

    assertThat(call("DELETE", "/v1/vms/web", null).status()).isEqualTo(200);
    r = call("GET", "/v1/vms/web", null);
    assertThat(r.status()).isEqualTo(404);
    assertThat(json(r)).containsEntry("message", "no such VM: web");
  }

  @Test
  void badRequestsGetClearErrorsAndTheDaemonCarriesOn() throws Exception {
    var r = call("POST", "/v1/vms", "{\"image\":\"busybox\",\"colour\":\"red\"}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(json(r)).containsEntry("message", "unknown field \"colour\" in the request body");

    r = call("POST", "/v1/vms", "{\"image\": [");
    assertThat(r.status()).isEqualTo(400);
    assertThat((String) json(r).get("message")).startsWith("malformed JSON");

    r = call("POST", "/v1/vms", "");
    assertThat(r.status()).isEqualTo(400);

    r = call("POST", "/v1/vms", "{\"image\":\"busybox\"} trailing");
    assertThat(r.status()).isEqualTo(400);

    r = call("POST", "/v1/vms", "{\"image\":\"busybox\",\"cpus\":\"many\"}");
    assertThat(r.status()).isEqualTo(400);

    r = call("POST", "/v1/vms", "{\"image\":\"busybox\",\"env\":[\"NOEQUALS\"]}");
    assertThat(r.status()).isEqualTo(400);
    assertThat((String) json(r).get("message")).contains("KEY=VALUE");

    r = call("POST", "/v1/vms", "{\"image\":\"nosuch/thing\"}");
    assertThat(r.status()).isEqualTo(404);
    assertThat((String) json(r).get("message")).contains("manifest unknown");

    r = call("GET", "/v1/nothing", null);
    assertThat(r.status()).isEqualTo(404);
    assertThat(json(r)).containsEntry("message", "no such API route: GET /v1/nothing");

    r = call("PUT", "/v1/vms", null);
    assertThat(r.status()).isEqualTo(405);
    assertThat(r.headers().get("allow")).isEqualTo("GET, POST");

    r = call("GET", "/v1/vms/x/logs?tail=abc", null);
    assertThat(r.status()).isEqualTo(400);

    r = call("GET", "/v1/vms/x/logs?since=yesterday", null);
    assertThat(r.status()).isEqualTo(400);

    r = call("POST", "/v1/vms/x/kill?signal=SIGNOPE", null);
    assertThat(r.status()).isEqualTo(404); // the VM is looked up first

    assertThat(call("GET", "/v1/version", null).status()).isEqualTo(200);
  }

  @Test
  void oversizedBodiesAre413WithOrWithoutContentLength() throws Exception {
    String big = "{\"image\":\"" + "a".repeat(2 << 20) + "\"}";
    var r = call("POST", "/v1/vms", big);
    assertThat(r.status()).isEqualTo(413);
    assertThat((String) json(r).get("message")).contains("larger than the limit");

    // chunked, no Content-Length: counted while reading
    StringBuilder chunked = new StringBuilder();
    String piece = "x".repeat(60000);
    chunked.append("{\"image\":\"");
    String head =
        "POST /v1/vms HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
    StringBuilder body = new StringBuilder();
    body.append(Integer.toHexString(chunked.length()))
        .append("\r\n")
        .append(chunked)
        .append("\r\n");
    for (int i = 0; i < 30; i++) {
      body.append(Integer.toHexString(piece.length())).append("\r\n").append(piece).append("\r\n");
    }
    body.append("0\r\n\r\n");
    r =
        new UnixHttpClient(d.socket)
            .sendRaw(
                head.getBytes(StandardCharsets.US_ASCII),
                body.toString().getBytes(StandardCharsets.US_ASCII));
    assertThat(r.status()).isEqualTo(413);
    r.close();
    assertThat(call("GET", "/v1/version", null).status()).isEqualTo(200);
  }

  @Test
  void attachedRunStreamsIdOutputAndExit() throws Exception {
    var r = call("POST", "/v1/vms?attach=true", run("att", "echo out; echo err >&2; exit 5"));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers().get("content-type")).isEqualTo(Frame.MEDIA_TYPE);
    List<Frame> frames = frames(r.body());
    r.close();
    assertThat(frames.getFirst().kind()).isEqualTo(Frame.Kind.INFO);
    assertThat(Json.parseObject(frames.getFirst().text())).containsEntry("name", "att");
    assertThat(frames.getLast().kind()).isEqualTo(Frame.Kind.EXIT);
    assertThat(Json.parseObject(frames.getLast().text())).containsEntry("code", 5L);
    List<String> middle = new ArrayList<>();
    for (Frame f : frames.subList(1, frames.size() - 1)) {
      middle.add(f.kind() + ":" + f.text());
      assertThat(f.timeNanos()).isPositive();
    }
    assertThat(middle).containsExactlyInAnyOrder("STDOUT:out\n", "STDERR:err\n");
  }

  @Test
  void attachedRunWithAutoRemoveStillDeliversEverything() throws Exception {
    String req =
        "{\"image\":\"busybox\",\"name\":\"rm1\",\"autoRemove\":true,\"cmd\":[\"sh\",\"-c\",\"echo last\"]}";
    var r = call("POST", "/v1/vms?attach=1", req);
    List<Frame> frames = frames(r.body());
    r.close();
    assertThat(frames).extracting(Frame::kind).contains(Frame.Kind.STDOUT, Frame.Kind.EXIT);
    long deadline = System.nanoTime() + 5_000_000_000L;
    int status = 200;
    while (status != 404 && System.nanoTime() < deadline) {
      status = call("GET", "/v1/vms/rm1", null).status();
      Thread.sleep(20);
    }
    assertThat(status).as("--rm VM removed after the attached reader finished").isEqualTo(404);
  }

  @Test
  void logsFollowTailAndTimes() throws Exception {
    String id =
        (String)
            json(call(
                    "POST",
                    "/v1/vms",
                    run("lg", "for i in 1 2 3 4; do echo line$i; sleep 0.1; done")))
                .get("id");
    var r = call("GET", "/v1/vms/lg/logs?follow=true", null);
    List<Frame> frames = frames(r.body());
    r.close();
    assertThat(frames.stream().filter(f -> f.kind() == Frame.Kind.STDOUT).map(Frame::text))
        .containsExactly("line1\n", "line2\n", "line3\n", "line4\n");
    assertThat(frames.getLast().kind()).isEqualTo(Frame.Kind.EXIT);

    r = call("GET", "/v1/vms/" + id + "/logs?tail=1", null);
    assertThat(frames(r.body())).extracting(Frame::text).containsExactly("line4\n");
    r.close();

    long t3 = frames.get(2).timeNanos();
    String since = (t3 / 1_000_000_000L) + "." + String.format("%09d", t3 % 1_000_000_000L);
    r = call("GET", "/v1/vms/lg/logs?since=" + since, null);
    assertThat(frames(r.body())).extracting(Frame::text).containsExactly("line3\n", "line4\n");
    r.close();
  }

  @Test
  void stopKillAndRemoveRules() throws Exception {
    call("POST", "/v1/vms", run("sl", "exec sleep 60")).text();
    var r = call("DELETE", "/v1/vms/sl", null);
    assertThat(r.status()).isEqualTo(409);
    assertThat((String) json(r).get("message")).contains("is running");
    r = call("POST", "/v1/vms/sl/stop?timeout=5", null);
    assertThat(r.status()).isEqualTo(200);
    Map<String, Object> d1 = json(r);
    assertThat(d1).containsEntry("state", "exited");
    r = call("POST", "/v1/vms/sl/kill", null);
    assertThat(r.status()).isEqualTo(409);
    assertThat((String) json(r).get("message")).contains("not running");

    call("POST", "/v1/vms", run("sl2", "exec sleep 60")).text();
    r = call("DELETE", "/v1/vms/sl2?force=true", null);
    assertThat(r.status()).isEqualTo(200);
    r.close();
  }

  @Test
  void eventsStreamLetsAClientWaitWithoutPolling() throws Exception {
    var events = call("GET", "/v1/events", null);
    assertThat(events.status()).isEqualTo(200);
    call("POST", "/v1/vms", run("ev", "exit 4")).text();
    List<String> types = new ArrayList<>();
    InputStream in = events.body();
    while (!types.contains("exited")) {
      String line = readLine(in);
      if (!line.isEmpty()) {
        Map<String, Object> e = Json.parseObject(line);
        types.add((String) e.get("type"));
        if (e.get("type").equals("exited")) {
          @SuppressWarnings("unchecked")
          Map<String, Object> exit = (Map<String, Object>) e.get("exit");
          assertThat(exit).containsEntry("code", 4L);
        }
      }
    }
    events.close();
    assertThat(types)
        .as("the image is pulled implicitly first")
        .containsExactly("pulled", "created", "started", "exited");
  }

  @Test
  void imagesPullListInspectRemove() throws Exception {
    var r = call("POST", "/v1/images/pull", "{\"reference\":\"alpine:3.20\"}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers().get("content-type")).isEqualTo("application/x-ndjson");
    List<Map<String, Object>> lines = new ArrayList<>();
    for (String l : r.text().lines().toList()) {
      lines.add(Json.parseObject(l));
    }
    assertThat(lines.getFirst()).containsEntry("status", "Pulling fs layer");
    assertThat(lines.getLast()).containsEntry("status", "Done");
    assertThat(lines)
        .anyMatch(l -> "Downloading".equals(l.get("status")) && l.get("total") != null);

    r = call("POST", "/v1/images/pull", "{\"reference\":\"nosuch\"}");
    assertThat(r.status()).as("failed before any progress: a plain error").isEqualTo(404);
    r = call("POST", "/v1/images/pull", "{\"reference\":\"BAD\"}");
    assertThat(r.status()).isEqualTo(400);
    r = call("POST", "/v1/images/pull", "{\"ref\":\"alpine\"}");
    assertThat(r.status()).isEqualTo(400);

    List<?> list = (List<?>) Json.parse(call("GET", "/v1/images", null).text());
    assertThat(list).hasSize(1);
    r = call("GET", "/v1/images/inspect?ref=alpine:3.20", null);
    assertThat(json(r)).containsEntry("reference", "docker.io/library/alpine:3.20");

    call("POST", "/v1/vms", run("user", "exec sleep 60").replace("busybox", "alpine:3.20")).text();
    r = call("DELETE", "/v1/images?ref=alpine:3.20", null);
    assertThat(r.status()).isEqualTo(409);
    assertThat((String) json(r).get("message")).contains("in use by running VM(s) user");
    call("DELETE", "/v1/vms/user?force=1", null).text();
    assertThat(call("DELETE", "/v1/images?ref=alpine:3.20", null).status()).isEqualTo(200);
    assertThat(call("GET", "/v1/images/inspect?ref=alpine:3.20", null).status()).isEqualTo(404);
  }

  @Test
  void loadTakesTheBodyAsAStream() throws Exception {
    var r = call("POST", "/v1/images/load", "{\"reference\":\"local/app:1\",\"cmd\":[\"true\"]}");
    assertThat(r.status()).isEqualTo(200);
    String text = r.text();
    assertThat(text).contains("\"status\":\"Done\"").contains("docker.io/local/app:1");
    r = call("POST", "/v1/images/load", "not an archive");
    assertThat(r.status()).isEqualTo(400);
  }

  @Test
  void peersTheDaemonDoesNotTrustAreRefused() throws Exception {
    d.close();
    d = new TestDaemon(dir, (user, group) -> "permission denied: " + user + " is not trusted");
    var r = call("GET", "/v1/version", null);
    assertThat(r.status()).isEqualTo(403);
    assertThat(json(r))
        .containsEntry(
            "message", "permission denied: " + System.getProperty("user.name") + " is not trusted");
  }

  @Test
  void tenRunsAndStopsInParallelLeaveConsistentStateAndNoProcesses() throws Exception {
    int n = 10;
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Integer>> created = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String name = "par" + i;
        created.add(
            pool.submit(() -> call("POST", "/v1/vms", run(name, "exec sleep 60")).status()));
      }
      for (var f : created) {
        assertThat(f.get()).isEqualTo(201);
      }
      assertThat((List<?>) Json.parse(call("GET", "/v1/vms", null).text())).hasSize(n);
      List<Future<Map<String, Object>>> stopped = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String name = "par" + i;
        stopped.add(
            pool.submit(() -> json(call("POST", "/v1/vms/" + name + "/stop?timeout=5", null))));
      }
      for (var f : stopped) {
        assertThat(f.get()).containsEntry("state", "exited");
      }
      List<Future<Integer>> removed = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String name = "par" + i;
        removed.add(pool.submit(() -> call("DELETE", "/v1/vms/" + name, null).status()));
      }
      for (var f : removed) {
        assertThat(f.get()).isEqualTo(200);
      }
    }
    assertThat((List<?>) Json.parse(call("GET", "/v1/vms?all=true", null).text())).isEmpty();
    assertThat(
            ProcessHandle.current()
                .descendants()
                .filter(p -> p.info().commandLine().orElse("").contains("sleep 60"))
                .toList())
        .as("no VM process left behind")
        .isEmpty();
    assertThat(call("GET", "/v1/info", null).text()).contains("\"vms\":0");
  }

  static List<Frame> frames(InputStream in) throws Exception {
    List<Frame> out = new ArrayList<>();
    for (Frame f = Frame.readFrom(in); f != null; f = Frame.readFrom(in)) {
      out.add(f);
    }
    return out;
  }

  static String readLine(InputStream in) throws Exception {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      sb.append((char) c);
    }
    if (c < 0 && sb.isEmpty()) {
      throw new EOFException();
    }
    return sb.toString();
  }

  @Test
  void loginChecksCredentialsAndLogoutForgetsThem() throws Exception {
    var mem = (MemoryImageBackend) d.images;
    mem.account("127.0.0.1:5000", "alice", "pw");
    var r =
        call(
            "POST",
            "/v1/auth",
            "{\"server\":\"http://127.0.0.1:5000/v2/\",\"username\":\"alice\",\"password\":\"bad\"}");
    assertThat(r.status()).isEqualTo(401);
    assertThat(json(r))
        .containsEntry(
            "message",
            "login to 127.0.0.1:5000 failed: unauthorized: check the user name and password");
    assertThat(mem.storedLogin("127.0.0.1:5000")).isEmpty();

    r =
        call(
            "POST",
            "/v1/auth",
            "{\"server\":\"127.0.0.1:5000\",\"username\":\"alice\",\"password\":\"pw\"}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(json(r))
        .containsEntry("server", "127.0.0.1:5000")
        .containsEntry("status", "Login Succeeded");
    assertThat(mem.storedLogin("127.0.0.1:5000")).contains("alice:pw");

    r =
        call(
            "POST", "/v1/auth", "{\"server\":\"nowhere:1\",\"username\":\"a\",\"password\":\"b\"}");
    assertThat(r.status()).isEqualTo(502);
    assertThat(json(r).get("message").toString()).contains("cannot reach registry nowhere:1");
    r = call("POST", "/v1/auth", "{\"server\":\"a b\",\"username\":\"a\",\"password\":\"b\"}");
    assertThat(r.status()).isEqualTo(400);
    r = call("POST", "/v1/auth", "{\"username\":\"a\"}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(json(r)).containsEntry("message", "no password given");

    r = call("DELETE", "/v1/auth?server=127.0.0.1:5000", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(json(r)).containsEntry("status", "Removed");
    assertThat(mem.storedLogin("127.0.0.1:5000")).isEmpty();
    r = call("DELETE", "/v1/auth?server=127.0.0.1:5000", null);
    assertThat(json(r)).containsEntry("status", "Not logged in");
    r = call("DELETE", "/v1/auth", null);
    assertThat(json(r)).containsEntry("server", "docker.io");
  }
}
