package dev.inferno.kiln.guest;

import dev.inferno.kiln.protocol.Channel;
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
import java.util.function.Function;

/**
 * Firecracker's host end of hybrid vsock for host-initiated connections: reads {@code CONNECT
 * <port>\n}; while the guest is "not listening yet" (the first {@code refusals} attempts) closes
 * the connection, as Firecracker does; then answers {@code OK <host port>\n} and plays init's
 * control side on the connection, or (CONNECT to the session port, when a session handler is given)
 * hands it to a {@link FakeInitSession} that says HELLO.
 */
final class FakeFirecrackerVsock implements AutoCloseable {
  final AtomicInteger attempts = new AtomicInteger();
  final List<String> requests = new CopyOnWriteArrayList<>();
  private final ServerSocketChannel server;
  private final Path path;
  private final Function<SocketChannel, FakeInitSession> session;

  FakeFirecrackerVsock(Path uds, int refusals) throws IOException {
    this(uds, refusals, null);
  }

  FakeFirecrackerVsock(Path uds, int refusals, Function<SocketChannel, FakeInitSession> session)
      throws IOException {
    this.path = uds;
    this.session = session;
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
      if (session != null
          && line.toString().equals("CONNECT " + Channel.SESSION.defaultVsockPort())) {
        SyntheticGuest.writeAll(c, "OK 1073741825\n".getBytes(StandardCharsets.US_ASCII));
        session.apply(c).hello(GuestLinkTest.VM);
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
