package dev.inferno.kiln.firecracker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Just enough HTTP/1.1 over a unix socket for Firecracker's API (the JDK's HttpClient cannot dial
 * unix sockets): one request per connection, bodies by Content-Length.
 */
public final class UnixHttpClient {
  private final Path socket;

  public UnixHttpClient(Path socket) {
    this.socket = socket;
  }

  /** A response: status code and body text. */
  public record Response(int status, String body) {
    public boolean ok() {
      return status >= 200 && status < 300;
    }
  }

  public Response put(String path, String json) throws IOException {
    return send("PUT", path, json);
  }

  public Response get(String path) throws IOException {
    return send("GET", path, null);
  }

  public Response send(String method, String path, String json) throws IOException {
    byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
    StringBuilder head =
        new StringBuilder()
            .append(method)
            .append(' ')
            .append(path)
            .append(" HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n");
    if (json != null) {
      head.append("Content-Type: application/json\r\nContent-Length: ")
          .append(body.length)
          .append("\r\n");
    }
    head.append("\r\n");
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ByteBuffer out =
          ByteBuffer.allocate(head.length() + body.length)
              .put(head.toString().getBytes(StandardCharsets.US_ASCII))
              .put(body)
              .flip();
      while (out.hasRemaining()) {
        ch.write(out);
      }
      return read(ch);
    }
  }

  private static Response read(SocketChannel ch) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    ByteBuffer in = ByteBuffer.allocate(8192);
    int headerEnd = -1;
    while (headerEnd < 0) {
      if (ch.read(in.clear()) < 0) {
        throw new IOException("the API closed the connection before answering");
      }
      buf.write(in.array(), 0, in.position());
      headerEnd = indexOf(buf.toByteArray(), "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    byte[] all = buf.toByteArray();
    String head = new String(all, 0, headerEnd, StandardCharsets.US_ASCII);
    String[] lines = head.split("\r\n");
    String[] statusLine = lines[0].split(" ", 3);
    if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP response: " + lines[0]);
    }
    int status = Integer.parseInt(statusLine[1]);
    int length = 0;
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0
          && lines[i]
              .substring(0, colon)
              .trim()
              .toLowerCase(Locale.ROOT)
              .equals("content-length")) {
        length = Integer.parseInt(lines[i].substring(colon + 1).trim());
      }
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(all, headerEnd + 4, all.length - headerEnd - 4);
    while (body.size() < length) {
      if (ch.read(in.clear()) < 0) {
        break;
      }
      body.write(in.array(), 0, in.position());
    }
    return new Response(status, body.toString(StandardCharsets.UTF_8));
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
