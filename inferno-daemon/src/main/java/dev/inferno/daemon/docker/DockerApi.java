package dev.inferno.daemon.docker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.api.ApiHandler;
import dev.inferno.daemon.api.Dialect;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.vm.ApiException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpFields;

/**
 * The Docker Engine API on its own socket (docs/docker-api.md): a translation layer onto the same
 * services the inferno API uses. One routes class per area; this class owns the version rules.
 */
public final class DockerApi {
  /** The oldest API version served: dockerd's minimum since Docker 25. */
  public static final String MIN_VERSION = "1.24";

  /**
   * The newest API version served, and the one reported. 1.44 because Testcontainers 2
   * (docker-java) sends {@code /v1.44/} without negotiating; the shapes served are those of 1.44,
   * which are 1.41's for every field this API fills (docs/docker-api.md).
   */
  public static final String MAX_VERSION = "1.44";

  /** The Docker Engine release that introduced {@link #MAX_VERSION}. */
  static final String ENGINE_RELEASE = "25.0.0";

  /**
   * What version and info report as the engine's version: clients read it as a Docker Engine
   * release and compare it (Testcontainers refuses below 1.6.0), so it is the release whose API is
   * served, with inferno's own version as semver build metadata: {@code 25.0.0+inferno.0.1.0}.
   */
  public static String engineVersion(String infernoVersion) {
    return ENGINE_RELEASE + "+inferno." + infernoVersion;
  }

  private static final Pattern PREFIX = Pattern.compile("^/v(\\d+)\\.(\\d+)(/.*)$");

  private DockerApi() {}

  /** Every Docker route, from the services in {@code ctx}. */
  public static List<Route> routes(DockerContext ctx) {
    List<Route> all = new ArrayList<>();
    all.addAll(new SystemRoutes(ctx).all());
    all.addAll(new ContainerRoutes(ctx).all());
    all.addAll(new ContainerOpsRoutes(ctx).all());
    all.addAll(new SessionRoutes(ctx).all());
    all.addAll(new ImageRoutes(ctx).all());
    all.addAll(new PruneRoutes(ctx).all());
    all.addAll(new DiskUsageRoutes(ctx).all());
    all.addAll(new VolumeRoutes(ctx).all());
    all.addAll(new NetworkRoutes(ctx).all());
    all.addAll(new ContainerStatsRoutes(ctx).all());
    return List.copyOf(all);
  }

  /** The handler for the Docker socket: Docker's paths and headers, the inferno API's peers. */
  public static ApiHandler handler(DockerContext ctx, PeerPolicy peers, long maxBody) {
    return new ApiHandler(routes(ctx), ctx.json(), peers, maxBody, DIALECT);
  }

  static final Dialect DIALECT =
      new Dialect() {
        @Override
        public String routePath(String path) {
          Matcher m = PREFIX.matcher(path);
          if (!m.matches()) {
            return path; // no version: dockerd serves the newest
          }
          String v = m.group(1) + "." + m.group(2);
          if (compare(v, MAX_VERSION) > 0) {
            throw ApiException.badRequest(
                "client version "
                    + v
                    + " is too new. Maximum supported API version is "
                    + MAX_VERSION);
          }
          if (compare(v, MIN_VERSION) < 0) {
            throw ApiException.badRequest(
                "client version "
                    + v
                    + " is too old. Minimum supported API version is "
                    + MIN_VERSION
                    + ", please upgrade your client to a newer version");
          }
          return m.group(3);
        }

        @Override
        public void headers(HttpFields.Mutable h) {
          h.put("Api-Version", MAX_VERSION);
          h.put("Ostype", "linux");
          h.put("Docker-Experimental", "false");
          h.put("Server", "inferno (linux)");
        }
      };

  /**
   * The API version a request speaks: its {@code /v1.NN} prefix (already checked by {@link
   * #DIALECT}), or {@link #MAX_VERSION} without one. Shapes that changed between versions ask.
   */
  static String version(dev.inferno.daemon.api.Exchange ex) {
    Matcher m = PREFIX.matcher(ex.requestPath());
    return m.matches() ? m.group(1) + "." + m.group(2) : MAX_VERSION;
  }

  /** Whether the request speaks {@code v} or an older version. */
  static boolean atMost(dev.inferno.daemon.api.Exchange ex, String v) {
    return compare(version(ex), v) <= 0;
  }

  /** Compares two {@code MAJOR.MINOR} versions numerically. */
  static int compare(String a, String b) {
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    int c = Integer.compare(Integer.parseInt(x[0]), Integer.parseInt(y[0]));
    return c != 0 ? c : Integer.compare(Integer.parseInt(x[1]), Integer.parseInt(y[1]));
  }

  /** The JSON mapper of the Docker API (its own: Docker's names are PascalCase). */
  static ObjectMapper mapper() {
    return DockerJson.mapper();
  }
}
