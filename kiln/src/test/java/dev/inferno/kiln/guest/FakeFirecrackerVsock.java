package dev.inferno.kiln.guest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Firecracker's host end of hybrid vsock for host-initiated connections: reads {@code CONNECT
 * <port>\n}; while the guest is "not listening yet" (the first {@code refusals} attempts) closes
 * the connection, as Firecracker does; then answers {@code OK <host port>\n} and plays init's
 * control side on the connection.
 */
final class FakeFirecrackerVsock implements AutoCloseable {
  final AtomicInteger attempts = new AtomicInteger();
  final List<String> requests = new CopyOnWriteArrayList<>();
  private final ServerSocketChannel server;
  private final Path path;

  FakeFirecrackerVsock(Path uds, int refusals) throws IOException {
    this.path = uds;
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(uds));
    Thread.ofVirtual()
        .start(() -> {
          while (server.isOpen()) {
            try {
              SocketChannel c = server.accept();
              int n = attempts.incrementAndGet();
              Thread.ofVirtual().start(() -> handle(c, n <= refusals));
            } catch (IOException e) {
              return;
            }
          }
        });
  }

  private void handle(SocketChannel c, boolean refuse) {
    try {
      StringBuilder line = new StringBuilder();
      ByteBuffer one = ByteBuffer.allocate(1);
      while (true) {
        one.clear();
        if (c.read(one) < 0) {
          return;
        }
        char ch = (char) one.get(0);
        if (ch == '\n') {
          break;
        }
        line.append(ch);
      }
      requests.add(line.toString());
      if (refuse) {
        c.close();
        return;
      }
      // the OK line and the guest's HELLO may arrive in one read: the dialer must not eat the HELLO
      FakeInitControl init = new FakeInitControl(c);
      SyntheticGuest.writeAll(c, "OK 1073741824\n".getBytes(StandardCharsets.US_ASCII));
      init.hello();
      init.serve();
    } catch (IOException e) {
      // closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    Files.deleteIfExists(path);
  }
}
