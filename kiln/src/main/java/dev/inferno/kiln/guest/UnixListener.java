package dev.inferno.kiln.guest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Consumer;

/**
 * A listening unix socket whose accept loop runs on a virtual thread and hands each connection to a
 * handler.
 */
final class UnixListener implements AutoCloseable {
  /** sun_path is 108 bytes including the terminating NUL. */
  static final int MAX_PATH = 107;

  private final Path path;
  private final ServerSocketChannel server;
  private final Thread acceptor;

  private UnixListener(Path path, ServerSocketChannel server, Consumer<SocketChannel> handler) {
    this.path = path;
    this.server = server;
    this.acceptor =
        Thread.ofVirtual()
            .name("kiln-accept-" + path.getFileName())
            .start(() -> {
              while (server.isOpen()) {
                SocketChannel c;
                try {
                  c = server.accept();
                } catch (IOException e) {
                  return; // closed
                }
                Thread.ofVirtual()
                    .name("kiln-conn-" + path.getFileName())
                    .start(() -> handler.accept(c));
              }
            });
  }

  /**
   * Binds {@code path} (replacing a stale socket file left by an earlier kiln), mode 0600, chowned
   * to {@code owner} when given, and starts accepting.
   */
  static UnixListener bind(Path path, SocketOwner owner, Consumer<SocketChannel> handler)
      throws IOException {
    int len = path.toString().getBytes(StandardCharsets.UTF_8).length;
    if (len > MAX_PATH) {
      throw new IOException(
          "socket path "
              + path
              + " is "
              + len
              + " bytes, over the "
              + MAX_PATH
              + "-byte limit of unix sockets: use a shorter state directory");
    }
    Files.createDirectories(path.toAbsolutePath().getParent());
    Files.deleteIfExists(path);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(path));
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
      if (owner != null) {
        try {
          Files.setAttribute(path, "unix:uid", owner.uid());
          Files.setAttribute(path, "unix:gid", owner.gid());
        } catch (IOException e) {
          throw new IOException(
              "cannot give socket "
                  + path
                  + " to uid "
                  + owner.uid()
                  + "/gid "
                  + owner.gid()
                  + " ("
                  + e.getMessage()
                  + "): kiln needs root or CAP_CHOWN to run jailed VMs",
              e);
        }
      }
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    return new UnixListener(path, server, handler);
  }

  Path path() {
    return path;
  }

  @Override
  public void close() throws IOException {
    server.close();
    try {
      acceptor.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Files.deleteIfExists(path);
  }
}
