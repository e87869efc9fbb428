package dev.inferno.kiln.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.kiln.vm.VmmException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The QMP client against a fake QMP server that keeps QEMU's rules (docs/interop/qmp-spec): a
 * greeting first, nothing but {@code qmp_capabilities} before negotiation, events interleaved with
 * replies, errors as {@code {"error":{"class","desc"}}}, one client at a time.
 */
class QmpTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private ServerSocketChannel server;
  private final List<String> received = new CopyOnWriteArrayList<>();
  private volatile String state = "running";

  @AfterEach
  void close() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  private Path fakeQemu() throws IOException {
    Path sock = dir.resolve("qmp.sock");
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(sock));
    Thread.ofVirtual()
        .start(() -> {
          while (true) {
            SocketChannel c;
            try {
              c = server.accept();
            } catch (IOException e) {
              return; // the test closed the server
            }
            try (c) {
              serve(c);
            } catch (IOException e) {
              // the client closed while an event was still being written (cont's RESUME comes after
              // its reply): QEMU serves the next client all the same, and so does the fake
            }
          }
        });
    return sock;
  }

  private void serve(SocketChannel c) throws IOException {
    BufferedReader in =
        new BufferedReader(
            new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
    OutputStream out = Channels.newOutputStream(c);
    send(
        out,
        "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":0,\"minor\":2,\"major\":7},\"package\":\"\"},"
            + "\"capabilities\":[\"oob\"]}}");
    boolean negotiated = false;
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      received.add(line);
      String cmd = JSON.readTree(line).path("execute").asText();
      if (!negotiated && !cmd.equals("qmp_capabilities")) {
        send(
            out,
            "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting capabilities"
                + " negotiation with 'qmp_capabilities'\"}}");
        continue;
      }
      switch (cmd) {
        case "qmp_capabilities" -> {
          negotiated = true;
          send(out, "{\"return\":{}}");
        }
        case "stop" -> {
          state = "paused";
          send(out, "{\"timestamp\":{\"seconds\":1,\"microseconds\":2},\"event\":\"STOP\"}");
          send(out, "{\"return\":{}}");
        }
        case "cont" -> {
          if (state.equals("shutdown")) {
            send(
                out,
                "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Resetting the Virtual Machine"
                    + " is required\"}}");
          } else {
            state = "running";
            send(out, "{\"return\":{}}");
            send(out, "{\"timestamp\":{\"seconds\":1,\"microseconds\":3},\"event\":\"RESUME\"}");
          }
        }
        case "query-status" ->
            send(
                out,
                "{\"return\":{\"status\":\""
                    + state
                    + "\",\"singlestep\":false,\"running\":"
                    + state.equals("running")
                    + "}}");
        case "hang" -> {} // never answers
        default ->
            send(
                out,
                "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command "
                    + cmd
                    + " has not been found\"}}");
      }
    }
  }

  private static void send(OutputStream out, String json) throws IOException {
    out.write((json + "\r\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  @Test
  void stopContAndStatusNegotiateFirstAndSkipEvents() throws Exception {
    Qmp qmp = new Qmp(fakeQemu(), Duration.ofSeconds(5));
    assertThat(qmp.status()).isEqualTo("running");
    qmp.stop();
    assertThat(qmp.status()).isEqualTo("paused");
    qmp.cont();
    assertThat(qmp.status()).isEqualTo("running");
    JsonNode r = qmp.execute("query-status");
    assertThat(r.path("running").asBoolean()).isTrue();
    // every connection negotiates before its command
    assertThat(received)
        .containsExactly(
            "{\"execute\":\"qmp_capabilities\"}",
            "{\"execute\":\"query-status\"}",
            "{\"execute\":\"qmp_capabilities\"}",
            "{\"execute\":\"stop\"}",
            "{\"execute\":\"qmp_capabilities\"}",
            "{\"execute\":\"query-status\"}",
            "{\"execute\":\"qmp_capabilities\"}",
            "{\"execute\":\"cont\"}",
            "{\"execute\":\"qmp_capabilities\"}",
            "{\"execute\":\"query-status\"}",
            "{\"execute\":\"qmp_capabilities\"}",
            "{\"execute\":\"query-status\"}");
  }

  @Test
  void errorsNameTheCommandAndQemusWords() throws Exception {
    Qmp qmp = new Qmp(fakeQemu(), Duration.ofSeconds(5));
    state = "shutdown";
    assertThatThrownBy(qmp::cont)
        .isInstanceOf(VmmException.class)
        .hasMessage("QMP cont failed: Resetting the Virtual Machine is required (GenericError)");
    assertThatThrownBy(() -> qmp.execute("nope"))
        .hasMessage("QMP nope failed: The command nope has not been found (CommandNotFound)");
  }

  @Test
  void noAnswerTimesOutAndNoSocketSaysSo() throws Exception {
    Qmp qmp = new Qmp(fakeQemu(), Duration.ofMillis(300));
    assertThatThrownBy(() -> qmp.execute("hang"))
        .isInstanceOf(VmmException.class)
        .hasMessageContaining("QMP hang on ")
        .hasMessageContaining("QEMU did not answer within PT0.3S");
    // the hung connection was closed: the next one is served
    assertThat(qmp.status()).isEqualTo("running");
    Qmp gone = new Qmp(dir.resolve("no-such.sock"), Duration.ofSeconds(5));
    assertThatThrownBy(gone::stop)
        .isInstanceOf(VmmException.class)
        .hasMessageContaining("QMP stop: cannot connect to " + dir.resolve("no-such.sock"))
        .hasMessageContaining("is QEMU running?");
  }
}
