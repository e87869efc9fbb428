package dev.inferno.daemon.api;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.internal.HttpConnection;

/**
 * HTTP/1.1 that takes an empty {@code Host:} header. The docker CLI 20.10 (Go's hijack of {@code
 * exec start} and {@code attach} over a unix socket) sends {@code Host: } with no value, which
 * Jetty refuses outright ("400 Blank Host", no compliance mode allows it); a unix socket has no
 * host to name, so a blank one is read as {@code docker}, what Go sends on every other request.
 */
final class BlankHostConnectionFactory extends HttpConnectionFactory {
  static final String SUBSTITUTE = "docker";

  BlankHostConnectionFactory(HttpConfiguration config) {
    super(config);
  }

  @Override
  public Connection newConnection(Connector connector, EndPoint endPoint) {
    HttpConnection c = new Lenient(getHttpConfiguration(), connector, endPoint);
    c.setTransferEncodingChunkMaxLength(getTransferEncodingChunkMaxLength());
    return configure(c, connector, endPoint);
  }

  private static final class Lenient extends HttpConnection {
    Lenient(HttpConfiguration config, Connector connector, EndPoint endPoint) {
      super(config, connector, endPoint);
    }

    @Override
    protected RequestHandler newRequestHandler() {
      return new RequestHandler() {
        @Override
        public void parsedHeader(HttpField field) {
          if (field.getHeader() == HttpHeader.HOST
              && (field.getValue() == null || field.getValue().isBlank())) {
            super.parsedHeader(new HttpField(HttpHeader.HOST, SUBSTITUTE));
          } else {
            super.parsedHeader(field);
          }
        }
      };
    }
  }
}
