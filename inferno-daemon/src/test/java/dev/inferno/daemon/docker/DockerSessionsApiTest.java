package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import dev.inferno.model.stream.Multiplexed;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Docker's logs, exec and archive endpoints over the test daemon's docker.sock (process backend:
 * host processes stand in for the guest), with containers made through the inferno API.
 */
class DockerSessionsApiTest {
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

  UnixHttpClient.Response docker(String method, String path, String body) throws Exception {
    return new UnixHttpClient(d.dockerSocket).send(method, "/v1.44" + path, body);
  }

  /** A container made with the inferno API; with wait, once it exited. */
  void vm(String name, String json, boolean waitExit) throws Exception {
    var c = new UnixHttpClient(d.socket);
    var r =
        c.send("POST", "/v1/vms", "{\"image\":\"busybox\",\"name\":\"" + name + "\"," + json + "}");
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    r.close();
    if (waitExit) {
      c.send("POST", "/v1/vms/" + name + "/wait", null).text();
    }
  }

  static Map<Integer, String> demux(InputStream in) throws IOException {
    Map<Integer, String> by = new LinkedHashMap<>();
    for (Multiplexed.Chunk c = Multiplexed.read(in); c != null; c = Multiplexed.read(in)) {
      by.merge(c.stream(), new String(c.bytes(), StandardCharsets.UTF_8), String::concat);
    }
    return by;
  }

  Map<Integer, String> logs(String query) throws Exception {
    try (var r = docker("GET", "/containers/both/logs?" + query, null)) {
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.headers().get("content-type")).isEqualTo(Multiplexed.MEDIA_TYPE);
      return demux(r.body());
    }
  }

  @Test
  void logsSelectStreamsTailAndTimestampsAsDockerd() throws Exception {
    vm(
        "both",
        "\"cmd\":[\"sh\",\"-c\",\"echo o1; sleep 0.2; echo e1 >&2; sleep 0.2; echo o2; sleep 0.2;"
            + " echo o3\"]",
        true);
    assertThat(logs("stdout=1&stderr=1")).containsEntry(1, "o1\no2\no3\n").containsEntry(2, "e1\n");
    assertThat(logs("stdout=true")).containsExactly(Map.entry(1, "o1\no2\no3\n"));
    assertThat(logs("stderr=1")).containsExactly(Map.entry(2, "e1\n"));
    assertThat(logs("stdout=1&tail=1")).containsExactly(Map.entry(1, "o3\n"));
    assertThat(logs("stdout=1&tail=all")).containsExactly(Map.entry(1, "o1\no2\no3\n"));
    assertThat(logs("stdout=1&tail=0")).isEmpty();
    // since after everything: nothing; 0 (what the CLI sends for none) is no bound
    assertThat(logs("stdout=1&since=4102444800")).isEmpty();
    assertThat(logs("stdout=1&since=0")).containsExactly(Map.entry(1, "o1\no2\no3\n"));
    String stamped = logs("stdout=1&tail=2&timestamps=1").get(1);
    assertThat(stamped.split("\n"))
        .hasSize(2)
        .allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z o[23]"));

    var r = docker("GET", "/containers/both/logs", null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("You must choose at least one stream");
    r = docker("GET", "/containers/both/logs?stdout=1&tail=lots", null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("tail");
    r = docker("GET", "/containers/nosuch/logs?stdout=1", null);
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.text()).contains("No such container: nosuch");
  }

  @Test
  void logsOfATerminalContainerAreRawAndEveryLineIsStamped() throws Exception {
    vm("term", "\"tty\":true,\"cmd\":[\"sh\",\"-c\",\"echo one; echo two\"]", true);
    try (var r = docker("GET", "/containers/term/logs?stdout=1&stderr=1", null)) {
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.headers().get("content-type")).isEqualTo(Multiplexed.RAW_MEDIA_TYPE);
      assertThat(new String(r.body().readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo("one\ntwo\n");
    }
    // one record holding two lines: each line gets the record's time
    byte[] s =
        LogWriter.stamped(
            java.time.Instant.parse("2026-12-04T10:00:00.5Z"),
            "a\nb\n".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(s, StandardCharsets.UTF_8))
        .isEqualTo("2026-12-04T10:00:00.500000000Z a\n2026-12-04T10:00:00.500000000Z b\n");
  }

  @Test
  void logsFollowEndsWhenTheContainerExits() throws Exception {
    vm("follow", "\"cmd\":[\"sh\",\"-c\",\"echo start; sleep 1; echo end >&2\"]", false);
    try (var r = docker("GET", "/containers/follow/logs?follow=1&stdout=1&stderr=1", null)) {
      assertThat(r.status()).isEqualTo(200);
      assertThat(demux(r.body())).containsEntry(1, "start\n").containsEntry(2, "end\n");
    }
  }

  String createExec(String container, String cmdJson) throws Exception {
    var r =
        docker(
            "POST",
            "/containers/" + container + "/exec",
            "{\"User\":\"\",\"Privileged\":false,\"Tty\":false,\"AttachStdin\":false,"
                + "\"AttachStderr\":true,\"AttachStdout\":true,\"Detach\":false,"
                + "\"DetachKeys\":\"\",\"Env\":[\"FOO=bar\"],\"WorkingDir\":\"/tmp\",\"Cmd\":"
                + cmdJson
                + "}");
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(201);
    String id = (String) Json.parseObject(text).get("Id");
    assertThat(id).matches("[0-9a-f]{64}");
    return id;
  }

  Map<String, Object> inspectExec(String id) throws Exception {
    var r = docker("GET", "/exec/" + id + "/json", null);
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(200);
    return Json.parseObject(text);
  }

  @Test
  void execCreateInspectStartAttachedPlainAndDetached() throws Exception {
    vm("box", "\"cmd\":[\"sleep\",\"30\"]", false);
    String id = createExec("box", "[\"sh\",\"-c\",\"echo out $FOO; pwd; echo err >&2; exit 3\"]");
    Map<String, Object> before = inspectExec(id);
    assertThat(before)
        .containsEntry("ID", id)
        .containsEntry("Running", false)
        .containsEntry("ExitCode", null)
        .containsEntry("OpenStdin", false)
        .containsEntry("CanRemove", false)
        .containsKeys("ContainerID", "Pid", "OpenStdout", "OpenStderr", "DetachKeys");
    @SuppressWarnings("unchecked")
    Map<String, Object> pc = (Map<String, Object>) before.get("ProcessConfig");
    assertThat(pc)
        .containsEntry("entrypoint", "sh")
        .containsEntry("arguments", List.of("-c", "echo out $FOO; pwd; echo err >&2; exit 3"))
        .containsEntry("tty", false)
        .containsEntry("privileged", false)
        .containsKey("user");

    // the docker CLI: Upgrade: tcp, 101, multiplexed
    try (var u =
        new UnixHttpClient(d.dockerSocket)
            .upgrade(
                "POST",
                "/v1.44/exec/" + id + "/start",
                Map.of(),
                "{\"Detach\":false,\"Tty\":false}")) {
      assertThat(u.status()).isEqualTo(101);
      assertThat(u.headers()).containsEntry("content-type", Multiplexed.MEDIA_TYPE);
      assertThat(demux(u.body())).containsEntry(1, "out bar\n/tmp\n").containsEntry(2, "err\n");
    }
    assertThat(inspectExec(id)).containsEntry("ExitCode", 3L).containsEntry("Running", false);
    var again = docker("POST", "/exec/" + id + "/start", "{\"Detach\":true}");
    assertThat(again.status()).isEqualTo(409);

    // docker-java without stdin: no Upgrade header, the output in a plain response
    String plain = createExec("box", "[\"sh\",\"-c\",\"echo plain; echo oops >&2\"]");
    try (var r = docker("POST", "/exec/" + plain + "/start", "{\"Detach\":false,\"Tty\":false}")) {
      assertThat(r.status()).isEqualTo(200);
      assertThat(demux(r.body())).containsEntry(1, "plain\n").containsEntry(2, "oops\n");
    }
    assertThat(inspectExec(plain)).containsEntry("ExitCode", 0L);

    String detached = createExec("box", "[\"sh\",\"-c\",\"exit 5\"]");
    var r = docker("POST", "/exec/" + detached + "/start", "{\"Detach\":true,\"Tty\":false}");
    assertThat(r.status()).isEqualTo(200);
    r.close();
    for (int i = 0; i < 100 && inspectExec(detached).get("ExitCode") == null; i++) {
      Thread.sleep(50);
    }
    assertThat(inspectExec(detached)).containsEntry("ExitCode", 5L);
  }

  @Test
  void aBlankHostHeaderAsTheDebianCliSendsOnExecStartIsServed() throws Exception {
    vm("box", "\"cmd\":[\"sleep\",\"30\"]", false);
    String id = createExec("box", "[\"sh\",\"-c\",\"echo hijacked\"]");
    // docker 20.10's hijacked start, byte for byte as it sends it: "Host: " with no value
    String body = "{\"Detach\":false,\"Tty\":false}";
    String head =
        "POST /v1.41/exec/"
            + id
            + "/start HTTP/1.1\r\nHost: \r\nUser-Agent: Docker-Client/20.10.24+dfsg1 (linux)\r\n"
            + "Content-Length: "
            + body.length()
            + "\r\nConnection: Upgrade\r\nContent-Type: application/json\r\nUpgrade: tcp\r\n\r\n";
    try (var r =
        new UnixHttpClient(d.dockerSocket)
            .sendRaw(
                head.getBytes(StandardCharsets.US_ASCII), body.getBytes(StandardCharsets.UTF_8))) {
      assertThat(r.status()).isEqualTo(101);
      assertThat(demux(r.body())).containsExactly(Map.entry(1, "hijacked\n"));
    }
  }

  @Test
  void execRefusesBadInputWithDockersWords() throws Exception {
    vm("box", "\"cmd\":[\"sleep\",\"30\"]", false);
    var r = docker("POST", "/containers/box/exec", "{\"Cmd\":[\"true\"],\"Privileged\":true}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("Privileged");
    // a field Docker does not define is ignored, as dockerd does (docker-java sends containerId)
    r = docker("POST", "/containers/box/exec", "{\"Cmd\":[\"true\"],\"containerId\":\"box\"}");
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    // malformed JSON is not
    r = docker("POST", "/containers/box/exec", "{\"Cmd\":[\"true\"");
    assertThat(r.status()).isEqualTo(400);
    r = docker("POST", "/containers/box/exec", "{\"Cmd\":[]}");
    assertThat(r.status()).isEqualTo(400);
    r = docker("POST", "/containers/box/exec", "{\"Cmd\":\"true\"}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("Cmd");
    r = docker("POST", "/containers/box/exec", "{\"Cmd\":[\"true\"],\"DetachKeys\":\"ctrl-x\"}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("DetachKeys");
    r = docker("POST", "/containers/nosuch/exec", "{\"Cmd\":[\"true\"]}");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.text()).contains("No such container: nosuch");
    String missing = "0".repeat(64);
    for (String[] call :
        new String[][] {
          {"GET", "/exec/" + missing + "/json"},
          {"POST", "/exec/" + missing + "/start"},
          {"POST", "/exec/" + missing + "/resize?h=24&w=80"}
        }) {
      r = docker(call[0], call[1], call[0].equals("POST") ? "{}" : null);
      assertThat(r.status()).as(call[1]).isEqualTo(404);
      assertThat(r.text()).contains("No such exec instance: " + missing);
    }
    vm("done", "\"cmd\":[\"true\"]", true);
    r = docker("POST", "/containers/done/exec", "{\"Cmd\":[\"true\"]}");
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.text()).contains("is not running");
  }

  UnixHttpClient.Response put(String path, byte[] body) throws Exception {
    return new UnixHttpClient(d.dockerSocket)
        .send(
            "PUT",
            "/v1.41" + path,
            Map.of("Content-Type", "application/x-tar"),
            new ByteArrayInputStream(body),
            body.length);
  }

  @Test
  void archiveStatsGetsAndPutsWithDockersHeader() throws Exception {
    vm("box", "\"cmd\":[\"sleep\",\"30\"]", false);
    Path src = Files.createDirectories(dir.resolve("guest/data"));
    Files.writeString(src.resolve("a.txt"), "alpha");
    var r = docker("HEAD", "/containers/box/archive?path=" + src, null);
    assertThat(r.status()).isEqualTo(200);
    Map<String, Object> stat =
        Json.parseObject(
            new String(
                Base64.getDecoder().decode(r.headers().get("x-docker-container-path-stat")),
                StandardCharsets.UTF_8));
    assertThat(stat).containsEntry("name", "data").containsKeys("size", "mode", "mtime");
    r.close();

    byte[] tar;
    try (var g = docker("GET", "/containers/box/archive?path=" + src.resolve("a.txt"), null)) {
      assertThat(g.status()).isEqualTo(200);
      assertThat(g.headers().get("content-type")).isEqualTo("application/x-tar");
      assertThat(g.headers()).containsKey("x-docker-container-path-stat");
      tar = g.body().readAllBytes();
    }
    assertThat(new String(tar, StandardCharsets.ISO_8859_1)).contains("a.txt").contains("alpha");

    Path dest = Files.createDirectories(dir.resolve("guest/dest"));
    r = put("/containers/box/archive?path=" + dest + "&noOverwriteDirNonDir=true", tar);
    assertThat(r.status()).isEqualTo(200);
    r.close();
    assertThat(Files.readString(dest.resolve("a.txt"))).isEqualTo("alpha");

    r = put("/containers/box/archive?path=" + dest + "&copyUIDGID=1", tar);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("copyUIDGID");
    r = put("/containers/box/archive?path=" + dir.resolve("nope"), tar);
    assertThat(r.status()).isEqualTo(404);
    assertThat(docker("HEAD", "/containers/box/archive?path=" + dir.resolve("nope"), null).status())
        .isEqualTo(404);
    assertThat(docker("GET", "/containers/box/archive", null).status()).isEqualTo(400);
    r = docker("GET", "/containers/nosuch/archive?path=/", null);
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.text()).contains("No such container: nosuch");
  }
}
