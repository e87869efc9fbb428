package dev.inferno.daemon.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.model.stream.Frame;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Fields;

/** One request and its response, with the helpers every route needs. */
public final class Exchange {
  private static final java.util.logging.Logger LOG =
      java.util.logging.Logger.getLogger(Exchange.class.getName());
  private static final long UPGRADE_TIMEOUT_MILLIS = 10_000;

  private final Request request;
  private final Response response;
  private final Map<String, String> vars;
  private final Fields query;
  private final ObjectMapper json;
  private final long maxBody;
  private OutputStream out;
  private StreamKind streamKind = StreamKind.NONE;
  private Upgraded upgraded;
  private String upgradeType;
  private Runnable abandoned;

  /** Serves an upgraded connection, on its own virtual thread once the 101 went out. */
  @FunctionalInterface
  public interface Upgraded {
    void serve(UpgradedStream stream) throws Exception;
  }

  /** How a streamed response is framed, so a late error can be written in the same format. */
  public enum StreamKind {
    NONE,
    FRAMES,
    NDJSON,
    /** Bytes of their own format (a tar): a late error aborts the connection instead. */
    RAW
  }

  Exchange(
      Request request,
      Response response,
      Map<String, String> vars,
      ObjectMapper json,
      long maxBody) {
    this.request = request;
    this.response = response;
    this.vars = vars;
    this.query = Request.extractQueryParameters(request);
    this.json = json;
    this.maxBody = maxBody;
  }

  public String path(String name) {
    return vars.get(name);
  }

  // --- the Docker API reads what the client sent as it was (its version prefix, auth header) ---

  /** A request header, or null. */
  public String requestHeader(String name) {
    return request.getHeaders().get(name);
  }

  /** The request's path before a Dialect rewrote it. */
  public String requestPath() {
    return Request.getPathInContext(request);
  }

  public String query(String name) {
    return query.getValue(name);
  }

  /** Every value of a repeated query parameter ({@code filter=a&filter=b}), in order. */
  public java.util.List<String> queryAll(String name) {
    java.util.List<String> v = query.getValues(name);
    return v == null ? java.util.List.of() : v;
  }

  public boolean flag(String name) {
    String v = query(name);
    if (v == null) {
      return false;
    }
    return switch (v) {
      case "", "1", "true" -> true;
      case "0", "false" -> false;
      default -> throw ApiException.badRequest("invalid " + name + "=" + v + ": true or false");
    };
  }

  public Integer integer(String name) {
    String v = query(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    try {
      return Integer.valueOf(v);
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("invalid " + name + "=" + v + ": not an integer");
    }
  }

  /** A time given as RFC 3339 or Unix seconds (with an optional fraction). */
  public Instant time(String name) {
    String v = query(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    try {
      if (v.matches("-?\\d+(\\.\\d{1,9})?")) {
        BigDecimal s = new BigDecimal(v);
        long sec = s.longValue();
        int nanos = s.subtract(BigDecimal.valueOf(sec)).movePointRight(9).intValue();
        return Instant.ofEpochSecond(sec, nanos);
      }
      return OffsetDateTime.parse(v).toInstant();
    } catch (DateTimeParseException | ArithmeticException e) {
      throw ApiException.badRequest(
          "invalid " + name + "=" + v + ": expected RFC 3339 or Unix seconds");
    }
  }

  /** The body, refused beyond the size limit (413). */
  public InputStream body(long limit) {
    long declared = request.getLength();
    if (declared > limit) {
      throw new ApiException(
          413, "request body of " + declared + " bytes is larger than the limit of " + limit);
    }
    return new LimitedInputStream(Content.Source.asInputStream(request), limit);
  }

  /** The body as a JSON value of type t: 400 on malformed JSON or unknown fields. */
  public <T> T readJson(Class<T> t) throws IOException {
    byte[] bytes;
    try (InputStream in = body(maxBody)) {
      bytes = in.readAllBytes();
    }
    if (bytes.length == 0) {
      throw ApiException.badRequest("empty request body: expected a JSON object");
    }
    try {
      T v = json.readValue(bytes, t);
      if (v == null) {
        throw ApiException.badRequest("request body is null: expected a JSON object");
      }
      return v;
    } catch (UnrecognizedPropertyException e) {
      throw ApiException.badRequest(
          "unknown field \"" + e.getPropertyName() + "\" in the request body");
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest(
          "malformed JSON in the request body: " + e.getOriginalMessage());
    }
  }

  /** Whether the request has a body (a length other than 0, or chunked). */
  public boolean hasBody() {
    return request.getLength() != 0;
  }

  /** Sets a response header (before the response begins). */
  public void header(String name, String value) {
    response.getHeaders().put(name, value);
  }

  /** Sends a response without a body (204 No Content, 304 Not Modified). */
  public void sendEmpty(int status) throws IOException {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0);
    try (OutputStream o = Content.Sink.asOutputStream(response)) {
      o.flush();
    }
    out = OutputStream.nullOutputStream();
  }

  /** Sends a JSON response. */
  public void send(int status, Object body) throws IOException {
    byte[] bytes = json.writeValueAsBytes(body);
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    try (OutputStream o = Content.Sink.asOutputStream(response)) {
      o.write(bytes);
    }
    out = OutputStream.nullOutputStream();
  }

  /** Whether the request asks for {@code Connection: Upgrade} with an {@code Upgrade} protocol. */
  public boolean upgradeRequested() {
    String connection = request.getHeaders().get(HttpHeader.CONNECTION);
    String upgrade = request.getHeaders().get(HttpHeader.UPGRADE);
    return connection != null
        && connection.toLowerCase(java.util.Locale.ROOT).contains("upgrade")
        && upgrade != null
        && !upgrade.isBlank();
  }

  /**
   * Answers {@code 101 Switching Protocols} ({@code Upgrade: tcp}) once the route returns, then
   * runs {@code body} over the raw connection. Refused (400) when the request did not ask for it.
   */
  public void upgrade(String contentType, Upgraded body) {
    upgrade(contentType, body, () -> {});
  }

  /**
   * As {@link #upgrade(String, Upgraded)}; {@code abandoned} runs when the switch never happened.
   */
  public void upgrade(String contentType, Upgraded body, Runnable abandoned) {
    if (!upgradeRequested()) {
      throw ApiException.badRequest(
          "this endpoint streams both ways: send the request with the headers \"Connection:"
              + " Upgrade\" and \"Upgrade: tcp\"");
    }
    this.upgraded = body;
    this.upgradeType = contentType;
    this.abandoned = abandoned;
  }

  /** Switches the connection over, if the route asked for it; true when it did. */
  boolean switchProtocols() {
    if (upgraded == null) {
      return false;
    }
    response.setStatus(101);
    response.getHeaders().put(HttpHeader.CONNECTION, "Upgrade");
    response.getHeaders().put(HttpHeader.UPGRADE, "tcp");
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, upgradeType);
    var meta = request.getConnectionMetaData();
    UpgradedStream stream =
        new UpgradedStream(meta.getConnection().getEndPoint(), meta.getConnector().getExecutor());
    request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, stream);
    Upgraded body = upgraded;
    Runnable giveUp = abandoned;
    Thread.ofVirtual()
        .name("upgraded-" + request.getHttpURI().getPath())
        .start(() -> {
          try {
            try {
              stream.awaitOpen(UPGRADE_TIMEOUT_MILLIS);
            } catch (IOException e) {
              giveUp.run(); // the client never got its 101
              throw e;
            }
            body.serve(stream);
          } catch (Exception e) {
            LOG.log(java.util.logging.Level.FINE, "upgraded stream ended", e);
          } finally {
            stream.close();
          }
        });
    return true;
  }

  /** Starts a streamed 200 response; write, flush as needed, and the handler closes it. */
  public OutputStream stream(String contentType) {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
    out = Content.Sink.asOutputStream(response);
    streamKind =
        switch (contentType) {
          case Frame.MEDIA_TYPE -> StreamKind.FRAMES;
          case Routes.NDJSON -> StreamKind.NDJSON;
          default -> StreamKind.RAW;
        };
    return out;
  }

  /**
   * A streamed 200 response that begins with the first byte written: until then the route may still
   * fail with a plain error status (a save that finds no image answers 404, not a cut tar).
   */
  public OutputStream streamFromFirstByte(String contentType) {
    return new OutputStream() {
      private OutputStream started;

      private OutputStream out() {
        if (started == null) {
          started = stream(contentType);
        }
        return started;
      }

      @Override
      public void write(int b) throws IOException {
        out().write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out().write(b, off, len);
      }

      @Override
      public void flush() throws IOException {
        if (started != null) {
          started.flush();
        }
      }

      @Override
      public void close() {
        // the handler ends the response
      }
    };
  }

  StreamKind streamKind() {
    return streamKind;
  }

  OutputStream openStream() {
    return out;
  }

  /** Whether a response has begun (errors then go in-stream). */
  public boolean committed() {
    return out != null || response.isCommitted();
  }

  public ObjectMapper json() {
    return json;
  }

  Request request() {
    return request;
  }

  void finish() throws IOException {
    if (out != null) {
      out.close();
    }
  }

  /** Counts bytes so a body without (or lying about) Content-Length is still bounded. */
  private static final class LimitedInputStream extends FilterInputStream {
    private final long limit;
    private long read;

    LimitedInputStream(InputStream in, long limit) {
      super(in);
      this.limit = limit;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count(1);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count(n);
      }
      return n;
    }

    private void count(int n) {
      read += n;
      if (read > limit) {
        throw new ApiException(413, "request body is larger than the limit of " + limit + " bytes");
      }
    }
  }
}
