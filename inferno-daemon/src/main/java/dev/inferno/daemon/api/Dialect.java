package dev.inferno.daemon.api;

import org.eclipse.jetty.http.HttpFields;

/**
 * How an API served by {@link ApiHandler} spells its paths and marks its answers: the inferno API
 * as it is; the Docker Engine API ({@code dev.inferno.daemon.docker}) strips a {@code /v1.NN}
 * prefix after checking the version, and adds {@code Api-Version} to every answer.
 */
public interface Dialect {
  /** The path to match against the routes; throws {@link dev.inferno.daemon.vm.ApiException}. */
  String routePath(String requestPath);

  /** Headers every answer carries (errors too), set before the route runs. */
  void headers(HttpFields.Mutable headers);

  /** The inferno API: paths as they come, no extra headers. */
  Dialect NONE =
      new Dialect() {
        @Override
        public String routePath(String requestPath) {
          return requestPath;
        }

        @Override
        public void headers(HttpFields.Mutable headers) {}
      };
}
