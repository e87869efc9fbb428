package dev.inferno.daemon.docker;

import dev.inferno.daemon.api.Route;
import java.util.List;

/** Docker API routes: images: create (pull), json, {name}/json, DELETE. */
final class ImageRoutes {
  private final DockerContext ctx;

  ImageRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of();
  }
}
