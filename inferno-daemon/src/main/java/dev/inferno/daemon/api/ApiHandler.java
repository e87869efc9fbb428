package dev.inferno.daemon.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.store.StoreException;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.model.ApiError;
import dev.inferno.model.stream.Frame;
import java.io.IOException;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.IntConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Dispatches requests to routes (blocking handlers, run on virtual threads), checks the peer, and
 * turns failures into {@code {"message": …}} with the right status — or, once a stream has begun,
 * into a last in-stream error.
 */
public final class ApiHandler extends Handler.Abstract {
  private static final Logger LOG = Logger.getLogger(ApiHandler.class.getName());

  private final List<Route> routes;
  private final ObjectMapper json;
  private final PeerPolicy peers;
  private final long maxBody;
  private final Dialect dialect;

  public ApiHandler(List<Route> routes, ObjectMapper json, PeerPolicy peers, long maxBody) {
    this(routes, json, peers, maxBody, Dialect.NONE);
  }

  public ApiHandler(
      List<Route> routes, ObjectMapper json, PeerPolicy peers, long maxBody, Dialect dialect) {
    this.routes = List.copyOf(routes);
    this.json = json;
    this.peers = peers;
    this.maxBody = maxBody;
    this.dialect = dialect;
  }

  /** Told the status of every error answered (observe: /metrics' API errors). */
  private volatile IntConsumer onError = status -> {};

  public void onError(IntConsumer listener) {
    onError = listener;
  }

  public List<Route> routes() {
    return routes;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    Exchange ex = null;
    try {
      dialect.headers(response.getHeaders());
      String denied = checkPeer(request);
      if (denied != null) {
        throw new ApiException(403, denied);
      }
      String path = dialect.routePath(Request.getPathInContext(request));
      List<String> segs =
          List.of(path.length() > 1 ? path.substring(1).split("/", -1) : new String[] {""});
      TreeSet<String> allowed = new TreeSet<>();
      Route match = null;
      Map<String, String> vars = null;
      for (Route r : routes) {
        Map<String, String> v = r.match(segs);
        if (v != null) {
          if (r.method().equals(request.getMethod())) {
            match = r;
            vars = v;
            allowed.add(r.method());
          } else if (!r.catchAllSpans(segs)) {
            // a trailing {name*} over several segments allows nothing else (see Route)
            allowed.add(r.method());
          }
        }
      }
      if (match == null) {
        if (!allowed.isEmpty()) {
          response.getHeaders().put(HttpHeader.ALLOW, String.join(", ", allowed));
          throw new ApiException(
              405,
              "method "
                  + request.getMethod()
                  + " not allowed on "
                  + path
                  + " (allowed: "
                  + String.join(", ", allowed)
                  + ")");
        }
        throw ApiException.notFound("no such API route: " + request.getMethod() + " " + path);
      }
      ex = new Exchange(request, response, vars, json, maxBody);
      match.handler().handle(ex);
      if (!ex.switchProtocols()) {
        if (!ex.committed()) {
          drainBody(ex, request);
        }
        ex.finish();
      }
      callback.succeeded();
    } catch (Throwable t) {
      fail(ex, response, callback, t);
    }
    return true;
  }

  private String checkPeer(Request request) throws IOException {
    EndPoint ep = request.getConnectionMetaData().getConnection().getEndPoint();
    if (ep instanceof SocketChannelEndPoint s
        && s.getChannel().getLocalAddress() instanceof UnixDomainSocketAddress) {
      UnixDomainPrincipal p = s.getChannel().getOption(ExtendedSocketOptions.SO_PEERCRED);
      return peers.check(p.user().getName(), p.group().getName());
    }
    return null;
  }

  private void fail(Exchange ex, Response response, Callback callback, Throwable t) {
    int status;
    String message;
    if (t instanceof ApiException a) {
      status = a.status();
      message = a.getMessage();
      if (status >= 500) {
        LOG.log(Level.WARNING, message, a.getCause());
      }
    } else if (t instanceof BackendException b) {
      // the image side and kiln say what went wrong; this is the one place it becomes a status
      status = status(b.kind());
      message = b.getMessage();
      if (status >= 500) {
        LOG.log(Level.WARNING, message, b.getCause());
      }
    } else if (t instanceof StoreException e) {
      status = 500;
      message = "the daemon's database failed: " + e.getMessage();
      LOG.log(Level.SEVERE, message, e);
    } else if (t instanceof EofException
        || (t instanceof IOException && ex != null && ex.committed())) {
      // the client went away mid-stream: nothing to tell it
      callback.failed(t);
      return;
    } else {
      status = 500;
      message = "internal error: " + t;
      LOG.log(Level.SEVERE, "request failed", t);
    }
    onError.accept(status);
    if (ex != null && ex.committed() && ex.streamKind() == Exchange.StreamKind.RAW) {
      // a tar cut short must not look whole: the client sees the connection fail
      LOG.log(Level.INFO, "stream aborted: " + message);
      callback.failed(t);
      return;
    }
    try {
      if (ex != null && ex.committed()) {
        // the stream has begun: end it with an in-stream error the client can show
        OutputStream out = ex.openStream();
        writeStreamError(ex, out, message);
        out.close();
        callback.succeeded();
        return;
      }
      if (response.isCommitted()) {
        callback.failed(t);
        return;
      }
      drainBody(ex, response.getRequest());
      byte[] body = json.writeValueAsBytes(new ApiError(message));
      response.setStatus(status);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
      response.write(true, ByteBuffer.wrap(body), callback);
    } catch (Throwable t2) {
      callback.failed(t2);
    }
  }

  /**
   * Reads (and drops) what is left of a request body of at most max-request-body bytes before a
   * response that did not need it: an error, or a route that takes no body. Go's HTTP client (the
   * docker CLI) writes the body after the headers; answered first, Jetty closes the connection on
   * the unread rest, the client's write is reset, and it shows "broken pipe" instead of the answer.
   * A bigger or unframed body is left to Jetty (the connection closes).
   */
  private void drainBody(Exchange ex, Request request) {
    long length = request.getLength();
    if (length <= 0 || length > maxBody || (ex != null && ex.switchProtocols())) {
      return;
    }
    try {
      Content.Source.consumeAll(request);
    } catch (IOException | RuntimeException e) {
      // the client went away or sent less than it said: nothing to save, the answer still goes
    }
  }

  /** The API's status for a backend failure. */
  static int status(BackendException.Kind kind) {
    return switch (kind) {
      case NOT_FOUND -> 404;
      case INVALID -> 400;
      case CONFLICT -> 409;
      case UNAUTHORIZED -> 401;
      case UNREACHABLE -> 502;
      case FAILED -> 500;
    };
  }

  private void writeStreamError(Exchange ex, OutputStream out, String message) throws IOException {
    String body = json.writeValueAsString(new ApiError(message));
    if (ex.streamKind() == Exchange.StreamKind.FRAMES) {
      Frame.json(Frame.Kind.ERROR, body).writeTo(out);
    } else {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("status", "Error");
      m.put("error", message);
      out.write(json.writeValueAsBytes(m));
      out.write('\n');
    }
    out.flush();
  }

  /** Route templates, for docs and tests. */
  public List<String> describe() {
    List<String> out = new ArrayList<>();
    for (Route r : routes) {
      out.add(r.method() + " " + r.template());
    }
    return out;
  }
}
