package dev.inferno.kiln.guest;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Host-initiated connections over Firecracker's hybrid vsock: connect to {@code uds_path}, write
 * {@code CONNECT <port>\n}, read {@code OK <host port>\n}. While the guest is not listening
 * Firecracker closes the connection; this retries with backoff (50 ms doubling to 1 s) until the
 * deadline.
 */
final class VsockDialer implements ControlClient.Dialer {
  private final Path udsPath;
  private final int port;

  VsockDialer(Path udsPath, int port) {
    this.udsPath = udsPath;
    this.port = port;
  }

  @Override
  public SocketChannel dial(long deadlineNanos) throws IOException, InterruptedException {
    long backoffMs = 50;
    String last = "no attempt";
    while (true) {
      try {
        return attempt(deadlineNanos);
      } catch (IOException e) {
        last = e.getMessage();
      }
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        throw new IOException(
            "the guest does not accept vsock port "
                + port
                + " through "
                + udsPath
                + " ("
                + last
                + "): is init up and is Firecracker's vsock configured?");
      }
      Thread.sleep(Math.min(backoffMs, left / 1_000_000 + 1));
      backoffMs = Math.min(backoffMs * 2, 1000);
    }
  }

  private SocketChannel attempt(long deadlineNanos) throws IOException, InterruptedException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    AtomicBoolean finished = new AtomicBoolean();
    // unix socket channels have no read timeout: a watchdog closes a handshake that hangs past the
    // deadline
    Thread watchdog =
        Thread.ofVirtual()
            .start(() -> {
              try {
                Thread.sleep(Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000));
                if (!finished.get()) {
                  Frames.closeQuietly(ch);
                }
              } catch (InterruptedException e) {
                // handshake done
              }
            });
    try {
      ch.connect(UnixDomainSocketAddress.of(udsPath));
      ByteBuffer req =
          ByteBuffer.wrap(("CONNECT " + port + "\n").getBytes(StandardCharsets.US_ASCII));
      while (req.hasRemaining()) {
        ch.write(req);
      }
      String line = readLine(ch);
      if (!line.startsWith("OK ")) {
        throw new IOException("Firecracker answered \"" + line + "\" to CONNECT " + port);
      }
      finished.set(true);
      return ch;
    } catch (IOException e) {
      Frames.closeQuietly(ch);
      throw e;
    } finally {
      finished.set(true);
      watchdog.interrupt();
    }
  }

  /** One line, read byte by byte so that no frame byte after it is consumed. */
  private static String readLine(SocketChannel ch) throws IOException {
    ByteBuffer one = ByteBuffer.allocate(1);
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 64) {
      one.clear();
      if (ch.read(one) < 0) {
        throw new IOException("connection closed by Firecracker (guest not listening yet)");
      }
      char c = (char) (one.get(0) & 0xFF);
      if (c == '\n') {
        return sb.toString();
      }
      sb.append(c);
    }
    throw new IOException("Firecracker's answer to CONNECT is not a line: " + sb);
  }
}
