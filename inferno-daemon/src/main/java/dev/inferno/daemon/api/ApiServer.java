package dev.inferno.daemon.api;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.concurrent.Executors;
import java.util.logging.Logger;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Jetty 12 serving the API on a unix-domain socket: blocking handlers on virtual threads, the
 * socket made {@code 0660 root:<group>} (the group when it exists), a stale socket file from a dead
 * daemon replaced, a live one refused.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ApiServer.class.getName());

  private final Server server;
  private final Path socket;

  private ApiServer(Server server, Path socket) {
    this.server = server;
    this.socket = socket;
  }

  public static ApiServer start(Path socket, String group, ApiHandler handler) throws Exception {
    Path dir = socket.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    if (Files.exists(socket)) {
      if (listening(socket)) {
        throw new IllegalStateException(
            "another inferno daemon is listening on "
                + socket
                + ": stop it first, or use another --socket");
      }
      Files.delete(socket); // left by a daemon that died
    }
    QueuedThreadPool pool = new QueuedThreadPool();
    pool.setName("inferno-api");
    pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
    Server server = new Server(pool);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendDateHeader(false);
    // docker 20.10's hijacked requests (attach, exec start) carry the socket's path as Host, which
    // is no host name: taken as is (a unix socket routes nothing by Host)
    http.setHttpCompliance(
        org.eclipse.jetty.http.HttpCompliance.RFC9110.with(
            "unix-socket-host",
            org.eclipse.jetty.http.HttpCompliance.Violation.UNSAFE_HOST_HEADER));
    UnixDomainServerConnector connector =
        new UnixDomainServerConnector(server, 1, 1, new BlankHostConnectionFactory(http));
    connector.setUnixDomainPath(socket);
    connector.setIdleTimeout(0); // log follows and waits may be idle for as long as a VM runs
    server.addConnector(connector);
    server.setHandler(handler);
    server.setStopTimeout(0); // streams (follow, events) would hold a graceful stop forever
    server.start();
    secure(socket, group);
    return new ApiServer(server, socket);
  }

  private static void secure(Path socket, String group) throws IOException {
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
    if (group == null || group.isEmpty()) {
      return;
    }
    try {
      GroupPrincipal g =
          socket.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
      Files.getFileAttributeView(socket, PosixFileAttributeView.class).setGroup(g);
    } catch (UserPrincipalNotFoundException e) {
      LOG.info(
          "group "
              + group
              + " does not exist: only root can use "
              + socket
              + " (create it with: groupadd "
              + group
              + ")");
    }
  }

  private static boolean listening(Path socket) {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public Path socket() {
    return socket;
  }

  public void join() throws InterruptedException {
    server.join();
  }

  @Override
  public void close() throws Exception {
    server.stop();
    Files.deleteIfExists(socket);
  }
}
