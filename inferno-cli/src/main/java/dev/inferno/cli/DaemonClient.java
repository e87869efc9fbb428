package dev.inferno.cli;

import dev.inferno.model.json.Json;
import dev.inferno.model.json.JsonException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A small HTTP/1.1 client for the daemon's unix socket, on JDK types only (startup matters: every
 * command is a new JVM). One connection per request, {@code Connection: close}; chunked bodies are
 * decoded.
 */
public final class DaemonClient {
  private final Path socket;

  public DaemonClient(Path socket) {
    this.socket = socket;
  }

  public Path socket() {
    return socket;
  }

  /** A response whose body is read as a stream; close it when done. */
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

  /** Sends a request with an optional JSON body; the caller checks the status. */
  public Response send(String method, String path, String json) throws IOException {
    byte[] b = json == null ? null : json.getBytes(StandardCharsets.UTF_8);
    return send(
        method,
        path,
        "application/json",
        b == null ? null : new java.io.ByteArrayInputStream(b),
        b == null ? -1 : b.length);
  }

  /** Sends a request whose body is streamed from in (length -1: chunked). */
  public Response send(String method, String path, String contentType, InputStream in, long length)
      throws IOException {
    SocketChannel ch;
    try {
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      ch.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      throw new CliException(
          "cannot reach the inferno daemon at "
              + socket
              + " ("
              + reason(e)
              + "): is it running? Start it with `sudo inferno server`, or point --socket /"
              + " INFERNO_SOCKET at it");
    }
    try {
      OutputStream out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 65536);
      StringBuilder head = new StringBuilder();
      head.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: inferno\r\n");
      head.append("Connection: close\r\nUser-Agent: inferno-cli\r\n");
      boolean chunked = in != null && length < 0;
      if (in != null) {
        head.append("Content-Type: ").append(contentType).append("\r\n");
        head.append(
            chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + length + "\r\n");
      }
      head.append("\r\n");
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (in != null) {
        byte[] buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) > 0) {
          if (chunked) {
            out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
          }
          out.write(buf, 0, n);
          if (chunked) {
            out.write(CRLF);
          }
        }
        if (chunked) {
          out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
      }
      out.flush();
      InputStream is = new BufferedInputStream(Channels.newInputStream(ch), 65536);
      String status = line(is);
      if (status == null || !status.startsWith("HTTP/1.")) {
        throw new IOException("the daemon closed the connection without an answer");
      }
      int code = Integer.parseInt(status.split(" ")[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      for (String l = line(is); l != null && !l.isEmpty(); l = line(is)) {
        int colon = l.indexOf(':');
        if (colon > 0) {
          headers.put(
              l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
        }
      }
      InputStream body;
      if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        body = new ChunkedInputStream(is);
      } else if (headers.containsKey("content-length")) {
        body = new BoundedInputStream(is, Long.parseLong(headers.get("content-length")));
      } else {
        body = is;
      }
      return new Response(code, headers, body, ch);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private static final byte[] CRLF = {'\r', '\n'};

  /**
   * GET/POST/DELETE expecting JSON back; non-2xx becomes a CliException with the daemon's message.
   */
  public Object call(String method, String path, String json) throws IOException {
    Response r = send(method, path, json);
    String text = r.text();
    if (r.status() / 100 != 2) {
      throw error(r.status(), text);
    }
    return text.isEmpty() ? null : Json.parse(text);
  }

  /** Throws the daemon's error for a non-2xx response whose body is still unread. */
  public static CliException error(Response r) throws IOException {
    return error(r.status(), r.text());
  }

  static CliException error(int status, String text) {
    String msg;
    try {
      Object m = Json.parseObject(text).get("message");
      msg = m == null ? text : m.toString();
    } catch (JsonException e) {
      msg = "the daemon answered " + status + ": " + text.strip();
    }
    return new CliException(msg, status);
  }

  /** Encodes a path segment or query value. */
  public static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String reason(IOException e) {
    String m = e.getMessage();
    if (e instanceof java.net.SocketException && m != null) {
      return m.toLowerCase(Locale.ROOT);
    }
    return m == null ? e.getClass().getSimpleName() : m;
  }

  static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  private static final class BoundedInputStream extends InputStream {
    private final InputStream in;
    private long left;

    BoundedInputStream(InputStream in, long left) {
      this.in = in;
      this.left = left;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int c = in.read();
      if (c >= 0) {
        left--;
      }
      return c;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n > 0) {
        left -= n;
      }
      return n;
    }
  }

  private static final class ChunkedInputStream extends InputStream {
    private final InputStream in;
    private long left;
    private boolean done;

    ChunkedInputStream(InputStream in) {
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
          size = line(in); // the CRLF after the previous chunk
        }
        if (size == null) {
          throw new IOException("the daemon's response ended early");
        }
        left = Long.parseLong(size.split(";")[0].trim(), 16);
        if (left == 0) {
          done = true;
          return -1;
        }
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new IOException("the daemon's response ended early");
      }
      left -= n;
      return n;
    }
  }
}
