package dev.inferno.kiln.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A log collector like vector's unix_stream socket source: reads newline-delimited JSON. */
public final class NdjsonCollector implements AutoCloseable {
  private final ServerSocketChannel server;
  private final List<SocketChannel> conns = new CopyOnWriteArrayList<>();

  /** Every line received so far, parsed. */
  public final List<JsonNode> lines = new CopyOnWriteArrayList<>();

  public NdjsonCollector(Path path) throws IOException {
    Files.deleteIfExists(path);
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    Thread.ofVirtual()
        .start(() -> {
          ObjectMapper m = new ObjectMapper();
          while (server.isOpen()) {
            try (SocketChannel c = accept();
                BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(
                            Channels.newInputStream(c), StandardCharsets.UTF_8))) {
              for (String l = r.readLine(); l != null; l = r.readLine()) {
                lines.add(m.readTree(l));
              }
            } catch (IOException e) {
              // closed
            }
          }
        });
  }

  private SocketChannel accept() throws IOException {
    SocketChannel c = server.accept();
    conns.add(c);
    return c;
  }

  /** Waits (up to 15 s) until at least {@code n} lines arrived. */
  public void awaitLines(int n) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 15_000;
    while (lines.size() < n && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(lines).hasSizeGreaterThanOrEqualTo(n);
  }

  /** The {@code message} of every line so far. */
  public List<String> messages() {
    return lines.stream().map(l -> l.path("message").asText()).toList();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (SocketChannel c : conns) {
      c.close(); // a stopped collector drops its connections too
    }
  }
}
