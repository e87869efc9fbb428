package dev.inferno.cli;

import dev.inferno.model.ApiError;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import dev.inferno.model.json.JsonException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The daemon's API over its unix socket, on the shared JDK-only {@link UnixHttpClient} (startup
 * matters: every command is a new JVM). Maps an unreachable socket and non-2xx answers to {@link
 * CliException}s that tell the operator what to do.
 */
public final class DaemonClient {
  private final Path socket;
  private final UnixHttpClient http;

  public DaemonClient(Path socket) {
    this.socket = socket;
    this.http = new UnixHttpClient(socket);
  }

  public Path socket() {
    return socket;
  }

  /**
   * Sends a request with an optional body (a model record, as JSON); the caller checks the status.
   */
  public UnixHttpClient.Response send(String method, String path, Record body) throws IOException {
    byte[] b = body == null ? null : Json.write(body).getBytes(StandardCharsets.UTF_8);
    return send(
        method,
        path,
        "application/json",
        b == null ? null : new java.io.ByteArrayInputStream(b),
        b == null ? -1 : b.length);
  }

  /** Sends a request whose body is streamed from in (length -1: chunked). */
  public UnixHttpClient.Response send(
      String method, String path, String contentType, InputStream in, long length)
      throws IOException {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("User-Agent", "inferno-cli");
    if (in != null) {
      headers.put("Content-Type", contentType);
    }
    try {
      return http.send(method, path, headers, in, length);
    } catch (UnixHttpClient.UnreachableException e) {
      throw unreachable(e);
    }
  }

  private CliException unreachable(UnixHttpClient.UnreachableException e) {
    return new CliException(
        "cannot reach the inferno daemon at "
            + socket
            + " ("
            + reason((IOException) e.getCause())
            + "): is it running? Start it with `sudo inferno server`, or point --socket /"
            + " INFERNO_SOCKET at it");
  }

  /**
   * Sends a request (JSON body or null) asking to upgrade to a raw stream (attach, exec start); the
   * caller checks {@link UnixHttpClient.Response#upgraded}.
   */
  public UnixHttpClient.Response upgrade(String method, String path, String json)
      throws IOException {
    try {
      return http.upgrade(method, path, Map.of("User-Agent", "inferno-cli"), json);
    } catch (UnixHttpClient.UnreachableException e) {
      throw unreachable(e);
    }
  }

  /** A request whose answer is not needed; non-2xx becomes a CliException with its message. */
  public void call(String method, String path, Record body) throws IOException {
    text(method, path, body);
  }

  /** A request answered by one model record. */
  public <T extends Record> T call(String method, String path, Record body, Class<T> type)
      throws IOException {
    return Json.read(text(method, path, body), type);
  }

  /** A request answered by a JSON array of model records. */
  public <T extends Record> List<T> list(String method, String path, Class<T> type)
      throws IOException {
    return Json.readList(text(method, path, null), type);
  }

  private String text(String method, String path, Record body) throws IOException {
    UnixHttpClient.Response r = send(method, path, body);
    String text = r.text();
    if (r.status() / 100 != 2) {
      throw error(r.status(), text);
    }
    return text;
  }

  /** Throws the daemon's error for a non-2xx response whose body is still unread. */
  public static CliException error(UnixHttpClient.Response r) throws IOException {
    return error(r.status(), r.text());
  }

  static CliException error(int status, String text) {
    String msg;
    try {
      String m = Json.read(text, ApiError.class).message();
      msg = m == null ? text : m;
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
}
