package dev.inferno.model.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixHttpClientTest {
  @TempDir Path dir;
  private ServerSocketChannel server;

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  /**
   * Serves one connection: reads the request (head, then a Content-Length or chunked body), hands
   * it back through the future, writes the canned answer and closes.
   */
  private CompletableFuture<String> serve(String answer) throws IOException {
    Path sock = dir.resolve("s.sock");
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(sock));
    CompletableFuture<String> request = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(() -> {
          try (SocketChannel c = server.accept()) {
            InputStream in = Channels.newInputStream(c);
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            String line;
            long length = 0;
            boolean chunked = false;
            while (!(line = UnixHttpClient.line(in)).isEmpty()) {
              seen.write((line + "\n").getBytes(StandardCharsets.ISO_8859_1));
              String l = line.toLowerCase(java.util.Locale.ROOT);
              if (l.startsWith("content-length:")) {
                length = Long.parseLong(l.substring(15).trim());
              }
              chunked |= l.equals("transfer-encoding: chunked");
            }
            seen.write('\n');
            if (chunked) {
              while (!(line = UnixHttpClient.line(in)).equals("0")) {
                seen.write(in.readNBytes(Integer.parseInt(line, 16)));
                UnixHttpClient.line(in);
              }
              UnixHttpClient.line(in);
            } else {
              seen.write(in.readNBytes((int) length));
            }
            request.complete(seen.toString(StandardCharsets.UTF_8));
            c.write(ByteBuffer.wrap(answer.getBytes(StandardCharsets.UTF_8)));
          } catch (IOException | RuntimeException e) {
            request.completeExceptionally(e);
          }
        });
    return request;
  }

  private UnixHttpClient client() {
    return new UnixHttpClient(dir.resolve("s.sock"));
  }

  @Test
  void readsAContentLengthBodyAndSendsAJsonBody() throws Exception {
    var request = serve("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello-and-more");
    try (var r = client().send("POST", "/v1/x", "{\"a\":1}")) {
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.ok()).isTrue();
      assertThat(r.headers()).containsEntry("x-a", "b");
      assertThat(r.text()).isEqualTo("hello");
    }
    assertThat(request.get())
        .startsWith("POST /v1/x HTTP/1.1\n")
        .contains("Connection: close\n", "Content-Type: application/json\n", "Content-Length: 7\n")
        .endsWith("\n\n{\"a\":1}");
  }

  @Test
  void decodesAChunkedBodyAndStreamsAChunkedRequest() throws Exception {
    var request =
        serve(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4\r\nwiki\r\n6;ext=1\r\npedia \r\n0\r\n\r\n");
    var in = new ByteArrayInputStream("streamed".getBytes(StandardCharsets.UTF_8));
    var r = client().send("PUT", "/load", Map.of("Content-Type", "application/x-tar"), in, -1);
    assertThat(r.text()).isEqualTo("wikipedia ");
    assertThat(request.get())
        .contains("Transfer-Encoding: chunked\n", "Content-Type: application/x-tar\n")
        .endsWith("\n\nstreamed");
  }

  @Test
  void readsACloseDelimitedBody() throws Exception {
    serve("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    assertThat(client().send("GET", "/", null).text()).isEqualTo("until the end");
  }

  @Test
  void noContentHasNoBodyEvenOnAKeptAliveConnection() throws Exception {
    serve("HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
    var r = client().send("PUT", "/logger", "{}");
    assertThat(r.status()).isEqualTo(204);
    assertThat(r.text()).isEmpty();
  }

  @Test
  void returnsA4xxWithItsBody() throws Exception {
    String body = "{\"fault_message\":\"bad\"}";
    serve("HTTP/1.1 400 Bad Request\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
    var r = client().send("PUT", "/machine-config", "{}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.ok()).isFalse();
    assertThat(r.text()).isEqualTo(body);
  }

  @Test
  void aContentLengthBodyCutShortIsAnError() throws Exception {
    serve("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    var r = client().send("GET", "/", null);
    assertThatThrownBy(r::text)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("ended after 3 of 10 body bytes");
  }

  @Test
  void aChunkedBodyCutShortIsAnError() throws Exception {
    serve("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
    var r = client().send("GET", "/", null);
    assertThatThrownBy(r::text)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("ended inside a chunk");
  }

  @Test
  void headersCutShortIsAnError() throws Exception {
    serve("HTTP/1.1 200 OK\r\nContent-Le");
    assertThatThrownBy(() -> client().send("GET", "/", null))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("ended inside its headers");
  }

  @Test
  void noAnswerAtAllIsAnError() throws Exception {
    serve("");
    assertThatThrownBy(() -> client().send("GET", "/", null))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("closed the connection without an answer");
  }

  @Test
  void nothingListeningIsUnreachable() {
    assertThatThrownBy(() -> client().send("GET", "/", null))
        .isInstanceOf(UnixHttpClient.UnreachableException.class)
        .hasMessageContaining("cannot connect to " + dir.resolve("s.sock"));
  }

  @Test
  void sendsRawBytesAndReadsTheAnswer() throws Exception {
    var request = serve("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig");
    byte[] head =
        "POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    var r = client().sendRaw(head, "hi".getBytes(StandardCharsets.US_ASCII));
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.text()).isEqualTo("big");
    assertThat(request.get()).startsWith("POST /raw HTTP/1.1\nHost: x\n").endsWith("\n\nhi");
  }

  @Test
  void readsTheAnswerOfAServerThatStopsReadingTheBody() throws Exception {
    Path sock = dir.resolve("s.sock");
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(sock));
    Thread.ofVirtual()
        .start(() -> {
          try (SocketChannel c = server.accept()) {
            c.read(ByteBuffer.allocate(64)); // a little of the request, then refuse the rest
            c.write(
                ByteBuffer.wrap(
                    "HTTP/1.1 413 Too Large\r\nContent-Length: 2\r\n\r\nno"
                        .getBytes(StandardCharsets.US_ASCII)));
          } catch (IOException e) {
            // the test sees it as a failed request
          }
        });
    var r = client().send("POST", "/big", "x".repeat(8 << 20));
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.text()).isEqualTo("no");
  }

  /**
   * An upgrade server: checks the upgrade headers, answers 101 with the first output bytes in the
   * same write, then echoes every byte back while reading, and after our end of file writes "EOF"
   * and closes.
   */
  private CompletableFuture<String> serveUpgrade() throws IOException {
    Path sock = dir.resolve("s.sock");
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(sock));
    CompletableFuture<String> head = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(() -> {
          try (SocketChannel c = server.accept()) {
            InputStream in = Channels.newInputStream(c);
            StringBuilder seen = new StringBuilder();
            String line;
            int length = 0;
            while (!(line = UnixHttpClient.line(in)).isEmpty()) {
              seen.append(line).append('\n');
              if (line.startsWith("Content-Length: ")) {
                length = Integer.parseInt(line.substring(16));
              }
            }
            seen.append(new String(in.readNBytes(length), StandardCharsets.UTF_8));
            head.complete(seen.toString());
            c.write(
                ByteBuffer.wrap(
                    ("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello ")
                        .getBytes(StandardCharsets.ISO_8859_1)));
            byte[] buf = new byte[4096];
            int n;
            while ((n = in.read(buf)) > 0) {
              c.write(ByteBuffer.wrap(buf, 0, n));
            }
            c.write(ByteBuffer.wrap("EOF".getBytes(StandardCharsets.ISO_8859_1)));
          } catch (IOException | RuntimeException e) {
            head.completeExceptionally(e);
          }
        });
    return head;
  }

  @Test
  void upgradeGivesARawTwoWayStreamWithTheBytesThatCameWithTheHeaders() throws Exception {
    CompletableFuture<String> head = serveUpgrade();
    try (UnixHttpClient.Response r =
        client().upgrade("POST", "/v1/exec/x/start", Map.of(), "{\"detach\":false}")) {
      assertThat(r.upgraded()).isTrue();
      assertThat(head.get())
          .contains("POST /v1/exec/x/start HTTP/1.1\n")
          .contains("Connection: Upgrade\n")
          .contains("Upgrade: tcp\n")
          .doesNotContain("Connection: close")
          .endsWith("\n{\"detach\":false}");
      assertThat(new String(r.body().readNBytes(6), StandardCharsets.UTF_8)).isEqualTo("hello ");
      // a reader blocked on the stream while another thread writes: both directions at once
      CompletableFuture<byte[]> rest =
          CompletableFuture.supplyAsync(() -> {
            try {
              return r.body().readAllBytes();
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          });
      Thread.sleep(100);
      byte[] big = new byte[1 << 20];
      new java.util.Random(7).nextBytes(big);
      r.output().write(big);
      r.shutdownOutput();
      byte[] got = rest.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(got).hasSize(big.length + 3);
      assertThat(java.util.Arrays.copyOf(got, big.length)).isEqualTo(big);
      assertThat(new String(got, big.length, 3, StandardCharsets.UTF_8)).isEqualTo("EOF");
    }
  }

  @Test
  void anUpgradeRefusedIsAnOrdinaryResponse() throws Exception {
    serve(
        "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n"
            + "{\"message\":\"not running\"}");
    try (UnixHttpClient.Response r = client().upgrade("POST", "/v1/vms/a/attach", Map.of(), null)) {
      assertThat(r.upgraded()).isFalse();
      assertThat(r.status()).isEqualTo(409);
      assertThat(r.text()).isEqualTo("{\"message\":\"not running\"}");
    }
  }
}
