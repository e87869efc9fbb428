package dev.inferno.daemon.api;

import org.eclipse.jetty.http.HostPortHttpField;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.internal.HttpConnection;

/**
 * Jetty's HTTP/1.1 for a unix socket, where the {@code Host} header names nothing: docker 20.10's
 * hijacked requests (attach, exec start) send it empty (Go's rendering of {@code unix://PATH}),
 * which Jetty refuses as "400 Blank Host". A blank one is taken as {@code localhost}.
 */
final class UnixHttpConnectionFactory extends HttpConnectionFactory {
  UnixHttpConnectionFactory(HttpConfiguration config) {
    super(config);
  }

  @Override
  public Connection newConnection(Connector connector, EndPoint endPoint) {
    HttpConnection conn =
        new HttpConnection(getHttpConfiguration(), connector, endPoint) {
          @Override
          protected RequestHandler newRequestHandler() {
            return new RequestHandler() {
              @Override
              public void parsedHeader(HttpField field) {
                boolean blankHost =
                    field.getHeader() == HttpHeader.HOST
                        && (field.getValue() == null || field.getValue().isBlank());
                super.parsedHeader(blankHost ? new HostPortHttpField("localhost") : field);
              }
            };
          }
        };
    conn.setUseInputDirectByteBuffers(isUseInputDirectByteBuffers());
    conn.setUseOutputDirectByteBuffers(isUseOutputDirectByteBuffers());
    return configure(conn, connector, endPoint);
  }
}
