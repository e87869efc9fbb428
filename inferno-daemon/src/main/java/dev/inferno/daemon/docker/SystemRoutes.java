package dev.inferno.daemon.docker;

import dev.inferno.daemon.api.Route;
import java.util.List;

/** Docker API routes: _ping, version, info, events (owner: docker system). */
final class SystemRoutes {
  private final DockerContext ctx;

  SystemRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of();
  }
}
