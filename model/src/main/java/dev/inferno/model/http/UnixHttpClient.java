package dev.inferno.model.http;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
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

/**
 * Just enough HTTP/1.1 over a unix socket (the JDK's HttpClient cannot dial one), on JDK types only
 * so the CLI starts fast. One request per connection ({@code Connection: close}); response bodies
 * framed by Content-Length, chunked encoding or the connection closing are all returned as a plain
 * stream. {@link #upgrade} asks for Docker's {@code Upgrade: tcp} instead: after a 101 the
 * connection is a raw two-way stream ({@link Response#body}, {@link Response#output}).
 */
public final class UnixHttpClient {
  private static final byte[] CRLF = {'\r', '\n'};
  private final Path socket;

  public UnixHttpClient(Path socket) {
    this.socket = socket;
  }

  public Path socket() {
    return socket;
  }

  /** The socket could not be connected to: nothing listens there, or it is not ours to use. */
  public static final class UnreachableException extends IOException {
    private static final long serialVersionUID = 1L;

    UnreachableException(Path socket, IOException cause) {
      super("cannot connect to " + socket + ": " + cause.getMessage(), cause);
    }
  }

  /** A response: status, lower-cased headers and the decoded body as a stream; close it. */
  public record Response(
      int status, Map<String, String> headers, InputStream body, SocketChannel channel)
      implements AutoCloseable {
    public boolean ok() {
      return status >= 200 && status < 300;
    }

    /** The server switched protocols ({@link #upgrade}): body and output are the raw stream. */
    public boolean upgraded() {
      return status == 101;
    }

    /**
     * After an upgrade, the write side of the connection (unbuffered: every write is sent). Reads
     * of {@link #body} and writes here may run in two threads at once.
     */
    public OutputStream output() {
      return Channels.newOutputStream(channel);
    }

    /**
     * After an upgrade, ends our side of the stream (the server reads end of file); reads go on.
     */
    public void shutdownOutput() throws IOException {
      channel.shutdownOutput();
    }

    /** Reads the whole body as UTF-8 and closes the response. */
    public String text() throws IOException {
      try (this) {
        return new String(body.readAllBytes(), StandardCharsets.UTF_8);
      }
    }

    @Override
    public void close() throws IOException {
      if (channel.isOpen() && !upgraded()) {
        // (upgraded: another thread may be blocked reading, which configureBlocking would wait for)
        // non-blocking first: closing a connected blocking channel initialises the JDK's IP
        // networking (InetAddress, socket options) only to ask whether to shut its output down
        // first, which Linux does not need; a few ms of every CLI command
        channel.configureBlocking(false);
      }
      channel.close();
    }
  }

  /**
   * Sends a request with an optional JSON body asking to upgrade the connection to a raw stream
   * (Docker's attach and exec start: {@code Connection: Upgrade}, {@code Upgrade: tcp}). A 101
   * answer is {@link Response#upgraded}: its body is what the server sends from then on (including
   * any bytes that came with the headers) and {@link Response#output} what we send; any other
   * answer is an ordinary response.
   */
  public Response upgrade(String method, String path, Map<String, String> headers, String json)
      throws IOException {
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put("Connection", "Upgrade");
    h.put("Upgrade", "tcp");
    byte[] b = json == null ? null : json.getBytes(StandardCharsets.UTF_8);
    if (b != null) {
      h.put("Content-Type", "application/json");
    }
    return send(
        method, path, h, b == null ? null : new ByteArrayInputStream(b), b == null ? -1 : b.length);
  }

  /** Sends a request with an optional JSON body. */
  public Response send(String method, String path, String json) throws IOException {
    if (json == null) {
      return send(method, path, Map.of(), null, -1);
    }
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    return send(
        method,
        path,
        Map.of("Content-Type", "application/json"),
        new ByteArrayInputStream(b),
        b.length);
  }

  /**
   * Sends a request whose body (if not null) is streamed from {@code in}: {@code length} bytes, or
   * chunked when length is -1.
   */
  public Response send(
      String method, String path, Map<String, String> headers, InputStream in, long length)
      throws IOException {
    SocketChannel ch = connect();
    try {
      OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 65536);
      StringBuilder head = new StringBuilder();
      head.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
      head.append("Host: localhost\r\n");
      if (!headers.containsKey("Connection")) {
        head.append("Connection: close\r\n");
      }
      headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      boolean chunked = in != null && length < 0;
      if (in != null) {
        head.append(
            chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + length + "\r\n");
      }
      head.append("\r\n");
      IOException writeFailed = null;
      try {
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (in != null) {
          writeBody(out, in, chunked);
        }
        out.flush();
      } catch (SourceFailed e) {
        throw e.getCause(); // our own body source failed: the server still waits for the rest
      } catch (IOException e) {
        writeFailed = e; // the server may have answered (say 413) and stopped reading: read that
      }
      if (writeFailed != null) {
        try {
          return read(ch, method);
        } catch (IOException e) {
          writeFailed.addSuppressed(e);
          throw writeFailed;
        }
      }
      return read(ch, method);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Marks a failure reading the caller's body source, as opposed to writing to the socket. */
  private static final class SourceFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SourceFailed(IOException cause) {
      super(cause);
    }

    @Override
    public synchronized IOException getCause() {
      return (IOException) super.getCause();
    }
  }

  private static int readSource(InputStream in, byte[] buf) {
    try {
      return in.read(buf);
    } catch (IOException e) {
      throw new SourceFailed(e);
    }
  }

  private static void writeBody(OutputStream out, InputStream in, boolean chunked)
      throws IOException {
    byte[] buf = new byte[65536];
    int n;
    while ((n = readSource(in, buf)) > 0) {
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

  /**
   * Sends exact bytes (request line and headers in {@code head}, then {@code body}) and reads the
   * response. A server may answer (say 413) and close before taking the whole body: its answer is
   * still read.
   */
  public Response sendRaw(byte[] head, byte[] body) throws IOException {
    SocketChannel ch = connect();
    try {
      OutputStream out = Channels.newOutputStream(ch);
      out.write(head);
      if (body != null) {
        try {
          out.write(body);
        } catch (IOException e) {
          // the server stopped reading; what it answered is what matters
        }
      }
      String method = new String(head, StandardCharsets.ISO_8859_1).split(" ", 2)[0];
      return read(ch, method);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private SocketChannel connect() throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      ch.connect(UnixDomainSocketAddress.of(socket));
      return ch;
    } catch (IOException e) {
      ch.close();
      throw new UnreachableException(socket, e);
    }
  }

  private Response read(SocketChannel ch, String method) throws IOException {
    InputStream is = new BufferedInputStream(Channels.newInputStream(ch), 65536);
    String status = line(is);
    if (status == null) {
      throw new IOException(socket + " closed the connection without an answer");
    }
    String[] parts = status.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException(socket + " did not answer HTTP: " + status);
    }
    int code;
    try {
      code = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IOException(socket + " answered a bad status line: " + status, e);
    }
    Map<String, String> headers = new LinkedHashMap<>();
    String l;
    while (!(l = requireLine(is)).isEmpty()) {
      int colon = l.indexOf(':');
      if (colon > 0) {
        headers.put(
            l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
      }
    }
    InputStream body;
    if (code == 101) {
      body = is; // the raw stream: what followed the headers is already in is's buffer
    } else if (code / 100 == 1 || code == 204 || code == 304 || method.equals("HEAD")) {
      body = InputStream.nullInputStream(); // no body, whatever the headers say (RFC 9112 6.3)
    } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = new ChunkedInputStream(is);
    } else if (headers.containsKey("content-length")) {
      long length;
      try {
        length = Long.parseLong(headers.get("content-length"));
      } catch (NumberFormatException e) {
        throw new IOException("bad Content-Length: " + headers.get("content-length"), e);
      }
      body = new BoundedInputStream(is, length);
    } else {
      body = is; // delimited by the server closing the connection
    }
    return new Response(code, headers, body, ch);
  }

  private static String requireLine(InputStream in) throws IOException {
    String l = line(in);
    if (l == null) {
      throw new IOException("the response ended inside its headers");
    }
    return l;
  }

  /** A CRLF (or LF) terminated line, without the terminator; null at end of stream. */
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

  /** A body decoder: subclasses read in blocks; single bytes go through the block read. */
  private abstract static class BodyStream extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }
  }

  private static final class BoundedInputStream extends BodyStream {
    private final InputStream in;
    private final long length;
    private long left;

    BoundedInputStream(InputStream in, long length) {
      this.in = in;
      this.length = length;
      this.left = length;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      if (len == 0) {
        return 0;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new IOException(
            "the response ended after " + (length - left) + " of " + length + " body bytes");
      }
      left -= n;
      return n;
    }
  }

  private static final class ChunkedInputStream extends BodyStream {
    private final InputStream in;
    private long left;
    private boolean done;

    ChunkedInputStream(InputStream in) {
      this.in = in;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (done) {
        return -1;
      }
      if (len == 0) {
        return 0;
      }
      if (left == 0) {
        String size = line(in);
        if (size != null && size.isEmpty()) {
          size = line(in); // the CRLF after the previous chunk
        }
        if (size == null) {
          throw new IOException("the chunked response ended before its last chunk");
        }
        try {
          left = Long.parseLong(size.split(";")[0].trim(), 16);
        } catch (NumberFormatException e) {
          throw new IOException("bad chunk size line: " + size, e);
        }
        if (left == 0) {
          done = true;
          return -1;
        }
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new IOException("the chunked response ended inside a chunk");
      }
      left -= n;
      return n;
    }
  }
}
