package dev.inferno.daemon.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upgrade through Jetty over a real unix socket: 101, then a two-way byte stream whose input
 * ends at the client's half-close while output still flows; bytes the client sent right behind its
 * request are not lost.
 */
class UpgradedStreamTest {
  @TempDir Path dir;
  ApiServer server;

  @BeforeEach
  void setUp() throws Exception {
    Route echo =
        new Route(
            "POST",
            "/v1/echo",
            ex ->
                ex.upgrade(
                    "application/octet-stream",
                    s -> {
                      // read everything first (to the half-close), then answer: writes after it
                      byte[] all = s.input().readAllBytes();
                      OutputStream out = s.output();
                      out.write(("got " + all.length + ":").getBytes(StandardCharsets.UTF_8));
                      out.write(all);
                      out.close();
                    }));
    ApiHandler handler =
        new ApiHandler(List.of(echo), ApiJson.mapper(), PeerPolicy.ALLOW_ALL, 1 << 20);
    server = ApiServer.start(dir.resolve("s.sock"), null, handler);
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
  }

  String exchange(String head, byte[] afterHead, byte[] later) throws Exception {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(dir.resolve("s.sock")));
      OutputStream out = Channels.newOutputStream(ch);
      // the head and the first stdin bytes in one write: they reach Jetty's parser together
      ByteArrayOutputStream first = new ByteArrayOutputStream();
      first.write(head.getBytes(StandardCharsets.US_ASCII));
      first.write(afterHead);
      out.write(first.toByteArray());
      InputStream in = Channels.newInputStream(ch);
      ByteArrayOutputStream headers = new ByteArrayOutputStream();
      while (!headers.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
        int c = in.read();
        if (c < 0) {
          break;
        }
        headers.write(c);
      }
      String h = headers.toString(StandardCharsets.US_ASCII);
      if (!h.startsWith("HTTP/1.1 101")) {
        return h;
      }
      out.write(later);
      ch.shutdownOutput();
      return h + new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static String head(String... headers) {
    return "POST /v1/echo HTTP/1.1\r\nHost: x\r\n" + String.join("\r\n", headers) + "\r\n\r\n";
  }

  @Test
  void inputEndsAtTheHalfCloseAndOutputGoesOn() throws Exception {
    String got =
        exchange(
            head("Connection: Upgrade", "Upgrade: tcp", "Content-Length: 0"),
            "early ".getBytes(StandardCharsets.UTF_8),
            "late".getBytes(StandardCharsets.UTF_8));
    assertThat(got).startsWith("HTTP/1.1 101 ");
    assertThat(got.toLowerCase(java.util.Locale.ROOT))
        .contains("upgrade: tcp")
        .contains("connection: upgrade");
    assertThat(got).endsWith("\r\n\r\ngot 10:early late");
  }

  @Test
  void aLargeInputCrossesManyReads() throws Exception {
    byte[] big = new byte[3 << 20];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) ('a' + i % 26);
    }
    String got = exchange(head("Connection: Upgrade", "Upgrade: tcp"), new byte[0], big);
    assertThat(got).contains("got " + big.length + ":abcdefghij");
    assertThat(got)
        .hasSize(got.indexOf("got ") + ("got " + big.length + ":").length() + big.length);
  }

  @Test
  void withoutTheUpgradeHeadersItIsA400NamingThem() throws Exception {
    String got = exchange(head("Content-Length: 0", "Connection: close"), new byte[0], new byte[0]);
    assertThat(got).startsWith("HTTP/1.1 400 ");
  }
}
