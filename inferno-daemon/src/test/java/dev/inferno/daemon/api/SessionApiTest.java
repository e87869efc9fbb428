package dev.inferno.daemon.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import dev.inferno.model.stream.Multiplexed;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The interactive API over the real unix socket: upgrades through Jetty to Docker's stream format,
 * with the process backend's session side (host processes) standing in for the guest's.
 */
class SessionApiTest {
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

  String vm(String name, String json) throws Exception {
    var r =
        call("POST", "/v1/vms", "{\"image\":\"busybox\",\"name\":\"" + name + "\"," + json + "}");
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(201);
    return (String) Json.parseObject(text).get("id");
  }

  /** A raw HTTP/1.1 exchange that may upgrade: the status, headers, then the socket's streams. */
  static final class Upgrade implements AutoCloseable {
    final SocketChannel ch;
    final int status;
    final Map<String, String> headers = new LinkedHashMap<>();
    final InputStream in;
    final OutputStream out;

    Upgrade(Path socket, String method, String path, String body, boolean upgrade)
        throws IOException {
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      ch.connect(UnixDomainSocketAddress.of(socket));
      out = Channels.newOutputStream(ch);
      in = Channels.newInputStream(ch);
      byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      String head =
          method
              + " "
              + path
              + " HTTP/1.1\r\nHost: inferno\r\n"
              + (upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : "")
              + (b.length > 0 ? "Content-Type: application/json\r\n" : "")
              + "Content-Length: "
              + b.length
              + "\r\n\r\n";
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.write(b);
      out.flush();
      String statusLine = line();
      status = Integer.parseInt(statusLine.substring(9, 12)); // "HTTP/1.1 101 …"
      for (String l = line(); !l.isEmpty(); l = line()) {
        int c = l.indexOf(':');
        headers.put(l.substring(0, c).toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
      }
    }

    private String line() throws IOException {
      ByteArrayOutputStream l = new ByteArrayOutputStream();
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) {
          throw new IOException("the connection closed in the headers");
        }
        if (c != '\r') {
          l.write(c);
        }
      }
      return l.toString(StandardCharsets.US_ASCII);
    }

    void send(String s) throws IOException {
      out.write(s.getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    void halfClose() throws IOException {
      ch.shutdownOutput();
    }

    /** Everything until the server closes: "1:text" / "2:text" pieces joined by stream. */
    Map<Integer, String> readMultiplexed() throws IOException {
      Map<Integer, String> by = new LinkedHashMap<>();
      for (Multiplexed.Chunk c = Multiplexed.read(in); c != null; c = Multiplexed.read(in)) {
        by.merge(c.stream(), new String(c.bytes(), StandardCharsets.UTF_8), String::concat);
      }
      return by;
    }

    @Override
    public void close() throws IOException {
      ch.close();
    }
  }

  Upgrade upgrade(String method, String path, String body) throws IOException {
    return new Upgrade(d.socket, method, path, body, true);
  }

  Map<String, Object> exec(String execId) throws Exception {
    var r = call("GET", "/v1/exec/" + execId, null);
    assertThat(r.status()).isEqualTo(200);
    return Json.parseObject(r.text());
  }

  String createExec(String vm, String body) throws Exception {
    var r = call("POST", "/v1/vms/" + vm + "/exec", body);
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(201);
    String id = (String) Json.parseObject(text).get("id");
    assertThat(id).matches("[0-9a-f]{64}");
    return id;
  }

  @Test
  void execRunsWithItsOwnStreamsAndExitCode() throws Exception {
    vm("box", "\"cmd\":[\"sleep\",\"30\"]");
    String id =
        createExec(
            "box",
            "{\"cmd\":[\"sh\",\"-c\",\"echo out $FOO; pwd; echo err >&2; exit 3\"],"
                + "\"env\":[\"FOO=bar\"],\"workdir\":\"/tmp\"}");
    assertThat(exec(id)).containsEntry("running", false).containsEntry("exitCode", null);
    try (Upgrade u = upgrade("POST", "/v1/exec/" + id + "/start", "{\"detach\":false}")) {
      assertThat(u.status).isEqualTo(101);
      assertThat(u.headers)
          .containsEntry("upgrade", "tcp")
          .containsEntry("content-type", Multiplexed.MEDIA_TYPE);
      Map<Integer, String> got = u.readMultiplexed();
      assertThat(got).containsEntry(1, "out bar\n/tmp\n").containsEntry(2, "err\n");
    }
    // the exit is recorded before the stream ends
    assertThat(exec(id))
        .containsEntry("running", false)
        .containsEntry("exitCode", 3L)
        .containsEntry("tty", false);
    // once only
    var again = call("POST", "/v1/exec/" + id + "/start", "{\"detach\":true}");
    assertThat(again.status()).isEqualTo(409);
  }

  @Test
  void execStdinEndsWithTheClientsHalfClose() throws Exception {
    vm("box", "\"cmd\":[\"sleep\",\"30\"]");
    String id = createExec("box", "{\"cmd\":[\"cat\"],\"stdin\":true}");
    try (Upgrade u = upgrade("POST", "/v1/exec/" + id + "/start", null)) {
      assertThat(u.status).isEqualTo(101);
      u.send("hello over stdin\n");
      u.halfClose();
      assertThat(u.readMultiplexed()).containsExactly(Map.entry(1, "hello over stdin\n"));
    }
    assertThat(exec(id)).containsEntry("exitCode", 0L).containsEntry("stdin", true);
  }

  @Test
  void anExecThatCannotStartUpgradesWithItsErrorAndIsInspectable() throws Exception {
    vm("box", "\"cmd\":[\"sleep\",\"30\"]");
    String id = createExec("box", "{\"cmd\":[\"nosuch-binary\"]}");
    try (Upgrade u = upgrade("POST", "/v1/exec/" + id + "/start", "{}")) {
      assertThat(u.status).isEqualTo(101);
      assertThat(u.readMultiplexed())
          .containsExactly(
              Map.entry(2, "exec: \"nosuch-binary\": executable file not found in $PATH\n"));
    }
    assertThat(exec(id)).containsEntry("exitCode", 127L).containsEntry("running", false);
    assertThat((String) exec(id).get("error")).contains("not found");
  }

  @Test
  void execRefusalsComeBeforeAnythingIsCreated() throws Exception {
    String running = vm("box", "\"cmd\":[\"sleep\",\"30\"]");
    var r = call("POST", "/v1/vms/nosuch/exec", "{\"cmd\":[\"true\"]}");
    assertThat(r.status()).isEqualTo(404);
    r = call("POST", "/v1/vms/box/exec", "{\"cmd\":[]}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("cmd");
    r = call("POST", "/v1/vms/box/exec", "{\"cmd\":[\"true\"],\"workdir\":\"tmp\"}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("workdir");
    r = call("POST", "/v1/vms/box/exec", "{\"cmd\":[\"true\"],\"consoleSize\":[0,80]}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("consoleSize");
    assertThat(call("GET", "/v1/exec/" + "0".repeat(64), null).status()).isEqualTo(404);
    // without the upgrade headers and not detached: 400, and the exec can still be started
    String id = createExec("box", "{\"cmd\":[\"true\"]}");
    r = call("POST", "/v1/exec/" + id + "/start", "{}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("Upgrade");
    r = call("POST", "/v1/exec/" + id + "/start", "{\"detach\":true}");
    assertThat(r.status()).isEqualTo(200);
    for (int i = 0; i < 100 && exec(id).get("exitCode") == null; i++) {
      Thread.sleep(50);
    }
    assertThat(exec(id)).containsEntry("exitCode", 0L);
    // an exited VM: 409; a removed VM's execs are forgotten
    vm("done", "\"cmd\":[\"true\"]");
    call("POST", "/v1/vms/done/wait", null);
    r = call("POST", "/v1/vms/done/exec", "{\"cmd\":[\"true\"]}");
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.text()).contains("not running");
    assertThat(call("DELETE", "/v1/vms/" + running + "?force=true", null).status()).isEqualTo(200);
    assertThat(call("GET", "/v1/exec/" + id, null).status()).isEqualTo(404);
  }

  @Test
  void attachForwardsStdinAndStdinOnceEndsTheWorkload() throws Exception {
    vm("cat", "\"cmd\":[\"cat\"],\"interactive\":true");
    try (Upgrade u = upgrade("POST", "/v1/vms/cat/attach?stdin=1&stdinOnce=1&logs=1", null)) {
      assertThat(u.status).isEqualTo(101);
      assertThat(u.headers).containsEntry("content-type", Multiplexed.MEDIA_TYPE);
      u.send("ping\n");
      u.halfClose();
      // cat saw EOF, exited; the stream had its output and ended with the VM
      assertThat(u.readMultiplexed()).containsExactly(Map.entry(1, "ping\n"));
    }
    var w = call("POST", "/v1/vms/cat/wait", null);
    assertThat(Json.parseObject(w.text())).containsEntry("code", 0L);
  }

  @Test
  void withoutATerminalTheDetachKeysAreData() throws Exception {
    vm("pipe", "\"cmd\":[\"cat\"],\"interactive\":true");
    try (Upgrade u =
        upgrade("POST", "/v1/vms/pipe/attach?stdin=1&stdinOnce=1&detachKeys=ctrl-x,x", null)) {
      u.send("one\u0018x two\n");
      u.halfClose();
      assertThat(u.readMultiplexed()).containsExactly(Map.entry(1, "one\u0018x two\n"));
    }
  }

  @Test
  void attachWithoutLogsStartsFromNow() throws Exception {
    vm("cat", "\"cmd\":[\"sh\",\"-c\",\"echo before; cat\"],\"interactive\":true");
    for (int i = 0;
        i < 100 && !call("GET", "/v1/vms/cat/logs", null).text().contains("before");
        i++) {
      Thread.sleep(50);
    }
    try (Upgrade u = upgrade("POST", "/v1/vms/cat/attach?stdin=true&stdinOnce=true", null)) {
      assertThat(u.status).isEqualTo(101);
      u.send("now\n");
      u.halfClose();
      assertThat(u.readMultiplexed()).containsExactly(Map.entry(1, "now\n"));
    }
  }

  @Test
  void aTerminalExecIsOneRawStreamAndResizes() throws Exception {
    vm("box", "\"cmd\":[\"sleep\",\"30\"]");
    String id =
        createExec(
            "box",
            "{\"cmd\":[\"sh\",\"-c\",\"read x; echo \\\"$TERM $x\\\"; echo e >&2\"],"
                + "\"tty\":true,\"stdin\":true,\"consoleSize\":[24,80]}");
    try (Upgrade u = upgrade("POST", "/v1/exec/" + id + "/start", "{}")) {
      assertThat(u.status).isEqualTo(101);
      assertThat(u.headers).containsEntry("content-type", Multiplexed.RAW_MEDIA_TYPE);
      assertThat(exec(id)).containsEntry("running", true).containsEntry("tty", true);
      assertThat(call("POST", "/v1/exec/" + id + "/resize?h=30&w=100", null).status())
          .isEqualTo(200);
      assertThat(call("POST", "/v1/exec/" + id + "/resize?w=100", null).status()).isEqualTo(400);
      u.send("hi\n");
      u.halfClose();
      // raw: no frame headers; the env got TERM=xterm from the -t merge
      assertThat(new String(u.in.readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo("xterm hi\ne\n");
    }
    String vmId = (String) exec(id).get("vmId");
    assertThat(d.vms.resizes(vmId)).containsExactly("exec 30x100");
    // ended: resizing it is a conflict
    assertThat(call("POST", "/v1/exec/" + id + "/resize?h=30&w=100", null).status()).isEqualTo(409);
  }

  @Test
  void detachKeysLeaveTheVmRunning() throws Exception {
    vm("cat", "\"cmd\":[\"cat\"],\"interactive\":true,\"tty\":true");
    try (Upgrade u = upgrade("POST", "/v1/vms/cat/attach?stdin=1&detachKeys=ctrl-x,x", null)) {
      assertThat(u.status).isEqualTo(101);
      assertThat(u.headers).containsEntry("content-type", Multiplexed.RAW_MEDIA_TYPE);
      u.send("one\n\u0018y\n\u0018x never\n");
      // the server closed the connection at the keys; what came before reached cat
      String got = new String(u.in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(got).isIn("", "one\n", "one\n\u0018y\n");
    }
    Map<String, Object> vm = Json.parseObject(call("GET", "/v1/vms/cat", null).text());
    assertThat(vm).containsEntry("state", "running");
    // the logs have what was forwarded, and not the detach keys or what followed them
    for (int i = 0; i < 100; i++) {
      if (call("GET", "/v1/vms/cat/logs", null).text().contains("y\n")) {
        break;
      }
      Thread.sleep(50);
    }
    String logs = call("GET", "/v1/vms/cat/logs", null).text();
    assertThat(logs).contains("one\n\u0018y\n").doesNotContain("never");
  }

  @Test
  void attachRefusals() throws Exception {
    vm("cat", "\"cmd\":[\"cat\"],\"interactive\":true");
    var r = call("POST", "/v1/vms/cat/attach?detachKeys=ctrl-1", null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("invalid detach keys");
    try (Upgrade u = new Upgrade(d.socket, "POST", "/v1/vms/cat/attach", null, false)) {
      assertThat(u.status).isEqualTo(400);
    }
    assertThat(call("POST", "/v1/vms/nosuch/attach", null).status()).isEqualTo(404);
    vm("done", "\"cmd\":[\"true\"]");
    call("POST", "/v1/vms/done/wait", null);
    try (Upgrade u = upgrade("POST", "/v1/vms/done/attach", null)) {
      assertThat(u.status).isEqualTo(409);
    }
  }

  @Test
  void resizeReachesTheSessionSide() throws Exception {
    String id = vm("term", "\"cmd\":[\"sleep\",\"30\"],\"tty\":true,\"consoleSize\":[24,80]");
    assertThat(call("POST", "/v1/vms/term/resize?h=30&w=100", null).status()).isEqualTo(200);
    assertThat(d.vms.resizes(id)).containsExactly("main 30x100");
    assertThat(call("POST", "/v1/vms/term/resize?h=0&w=100", null).status()).isEqualTo(400);
    assertThat(call("POST", "/v1/vms/term/resize?h=x&w=100", null).status()).isEqualTo(400);
    assertThat(call("POST", "/v1/vms/term/resize?h=3", null).status()).isEqualTo(400);
    // the VM record keeps -t (inspect) and the backend got it
    assertThat(d.vms.lastSpec().tty()).isTrue();
    assertThat(d.vms.lastSpec().consoleSize()).containsExactly(24, 80);
    @SuppressWarnings("unchecked")
    Map<String, Object> req =
        (Map<String, Object>)
            Json.parseObject(call("GET", "/v1/vms/term", null).text()).get("request");
    assertThat(req).containsEntry("tty", true);
    assertThat(req.get("env").toString()).contains("TERM=xterm");
  }

  @Test
  void archiveRelaysTarBothWaysAndStatsThePath() throws Exception {
    vm("box", "\"cmd\":[\"sleep\",\"30\"]");
    Path src = Files.createDirectories(dir.resolve("guest/data"));
    Files.writeString(src.resolve("a.txt"), "alpha");
    var r = call("HEAD", "/v1/vms/box/archive?path=" + src, null);
    assertThat(r.status()).isEqualTo(200);
    String stat =
        new String(
            Base64.getDecoder().decode(r.headers().get("x-inferno-path-stat")),
            StandardCharsets.UTF_8);
    assertThat(Json.parseObject(stat)).containsEntry("name", "data");

    byte[] tar;
    try (var g = call("GET", "/v1/vms/box/archive?path=" + src, null)) {
      assertThat(g.status()).isEqualTo(200);
      assertThat(g.headers().get("content-type")).isEqualTo("application/x-tar");
      tar = g.body().readAllBytes();
    }
    assertThat(new String(tar, StandardCharsets.ISO_8859_1))
        .contains("data/a.txt")
        .contains("alpha");

    Path dest = Files.createDirectories(dir.resolve("guest/dest"));
    r = put("/v1/vms/box/archive?path=" + dest, tar);
    assertThat(r.status()).isEqualTo(200);
    r.close();
    assertThat(Files.readString(dest.resolve("data/a.txt"))).isEqualTo("alpha");

    assertThat(call("GET", "/v1/vms/box/archive?path=" + dir.resolve("nope"), null).status())
        .isEqualTo(404);
    assertThat(call("HEAD", "/v1/vms/box/archive?path=" + dir.resolve("nope"), null).status())
        .isEqualTo(404);
    r = put("/v1/vms/box/archive?path=" + dir.resolve("nope"), tar);
    assertThat(r.status()).isEqualTo(404);
    r = put("/v1/vms/box/archive?path=" + dest, "not a tar".getBytes(StandardCharsets.UTF_8));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("refused the archive");
    assertThat(call("GET", "/v1/vms/box/archive", null).status()).isEqualTo(400);
    r = call("GET", "/v1/vms/box/archive?path=relative/x", null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.text()).contains("absolute");
  }

  UnixHttpClient.Response put(String path, byte[] body) throws Exception {
    return new UnixHttpClient(d.socket)
        .send(
            "PUT",
            path,
            Map.of("Content-Type", "application/x-tar"),
            new java.io.ByteArrayInputStream(body),
            body.length);
  }

  @Test
  void topListsTheGuestsProcesses() throws Exception {
    vm("box", "\"cmd\":[\"sleep\",\"30\"]");
    var r = call("GET", "/v1/vms/box/top", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(Json.parseObject(r.text())).containsKeys("Titles", "Processes");
  }
}
