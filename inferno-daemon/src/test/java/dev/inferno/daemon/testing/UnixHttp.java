package dev.inferno.daemon.testing;

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
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A raw HTTP/1.1 client over the daemon's unix socket, for tests that send exact bytes. */
public final class UnixHttp {
  private UnixHttp() {}

  /** A response: status, lower-cased headers, and the body (de-chunked) as a stream. */
  public record Response(
      int status, Map<String, String> headers, InputStream body, SocketChannel ch)
      implements AutoCloseable {
    public String text() throws IOException {
      try (this) {
        return new String(body.readAllBytes(), StandardCharsets.UTF_8);
      }
    }

    @Override
    public void close() throws IOException {
      ch.close();
    }
  }

  public static Response request(Path socket, String method, String path, String body)
      throws IOException {
    byte[] b = body == null ? null : body.getBytes(StandardCharsets.UTF_8);
    String head =
        method
            + " "
            + path
            + " HTTP/1.1\r\nHost: inferno\r\nConnection: close\r\n"
            + (b == null
                ? ""
                : "Content-Type: application/json\r\nContent-Length: " + b.length + "\r\n")
            + "\r\n";
    return raw(socket, head.getBytes(StandardCharsets.US_ASCII), b);
  }

  public static Response raw(Path socket, byte[] head, byte[] body) throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    ch.connect(UnixDomainSocketAddress.of(socket));
    OutputStream out = Channels.newOutputStream(ch);
    out.write(head);
    if (body != null) {
      try {
        out.write(body);
      } catch (IOException e) {
        // the server may answer (413) and close before taking the whole body: read its answer
      }
    }
    out.flush();
    InputStream in = new java.io.BufferedInputStream(Channels.newInputStream(ch));
    String status = line(in);
    if (status == null) {
      ch.close();
      throw new IOException("connection closed before a response");
    }
    int code = Integer.parseInt(status.split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
      int colon = l.indexOf(':');
      headers.put(
          l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
    }
    InputStream bodyIn;
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      bodyIn = new Chunked(in);
    } else if (headers.containsKey("content-length")) {
      bodyIn =
          new java.io.ByteArrayInputStream(
              in.readNBytes(Integer.parseInt(headers.get("content-length"))));
    } else {
      bodyIn = in;
    }
    return new Response(code, headers, bodyIn, ch);
  }

  static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.US_ASCII);
  }

  private static final class Chunked extends InputStream {
    private final InputStream in;
    private long left;
    private boolean done;

    Chunked(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (done) {
        return -1;
      }
      if (left == 0) {
        String size = line(in);
        if (size != null && size.isEmpty()) {
          size = line(in);
        }
        if (size == null) {
          done = true;
          return -1;
        }
        left = Long.parseLong(size.split(";")[0].trim(), 16);
        if (left == 0) {
          done = true;
          return -1;
        }
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new IOException("stream ended inside a chunk");
      }
      left -= n;
      return n;
    }
  }
}
