package dev.inferno.daemon.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.testing.TestDaemon;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that writes its body after the headers, as Go's HTTP client (the docker CLI) may, gets
 * the answer to a request the daemon refuses without reading the body, and its connection stays
 * usable: it was reset before, and docker 28 showed "broken pipe" instead of the message.
 */
class RequestBodyTest {
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

  @Test
  void aBodySentAfterTheHeadersOfARefusedRequestIsReadAndTheConnectionKept() throws Exception {
    for (Path socket : new Path[] {d.socket, d.dockerSocket}) {
      try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        ch.connect(UnixDomainSocketAddress.of(socket));
        OutputStream out = Channels.newOutputStream(ch);
        InputStream in = Channels.newInputStream(ch);
        byte[] body = "{\"ListenAddr\":\"0.0.0.0:2377\"}".getBytes(StandardCharsets.UTF_8);
        out.write(
            ("POST /swarm/init HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n"
                    + "Content-Length: "
                    + body.length
                    + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(300); // the daemon has the headers and routes them (to a 404) meanwhile
        out.write(body);
        out.flush();
        String first = response(in);
        assertThat(first).startsWith("HTTP/1.1 404").contains("no such API route");
        assertThat(first).doesNotContainIgnoringCase("connection: close");
        // the same connection serves the next request
        out.write(
            "GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String second = response(in);
        assertThat(second).as("on %s", socket.getFileName()).startsWith("HTTP/1.1 ");
      }
    }
  }

  /** One response: status line, headers, and a Content-Length body. */
  private static String response(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int c;
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      c = in.read();
      if (c < 0) {
        throw new IOException("connection closed after: " + head);
      }
      head.write(c);
    }
    String h = head.toString(StandardCharsets.US_ASCII);
    int length = 0;
    for (String line : h.lines().toList()) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    return h + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }
}
