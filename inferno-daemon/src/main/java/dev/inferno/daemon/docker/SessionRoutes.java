package dev.inferno.daemon.docker;

import dev.inferno.daemon.api.Route;
import java.util.List;

/**
 * Docker API routes: attach, containers resize, exec create/start/resize/json, archive
 * GET/PUT/HEAD.
 */
final class SessionRoutes {
  private final DockerContext ctx;

  SessionRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of();
  }
}
