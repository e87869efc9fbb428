package dev.inferno.daemon.docker;

import dev.inferno.daemon.api.Route;
import java.util.List;

/**
 * Docker API routes: containers: create, start, wait, stop, kill, restart, DELETE, json, {id}/json,
 * logs.
 */
final class ContainerRoutes {
  private final DockerContext ctx;

  ContainerRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of();
  }
}
