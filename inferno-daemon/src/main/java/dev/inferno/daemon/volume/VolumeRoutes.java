package dev.inferno.daemon.volume;

import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.model.VolumeCreateRequest;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** The /v1/volumes routes (docs/api.yaml describes them). */
public final class VolumeRoutes {
  private final VolumeService volumes;

  public VolumeRoutes(VolumeService volumes) {
    this.volumes = volumes;
  }

  public List<Route> all() {
    return List.of(
        new Route("GET", "/v1/volumes", this::list),
        new Route("POST", "/v1/volumes", this::create),
        new Route("POST", "/v1/volumes/prune", this::prune),
        new Route("GET", "/v1/volumes/{name}", this::inspect),
        new Route("DELETE", "/v1/volumes/{name}", this::remove));
  }

  private void list(Exchange ex) throws IOException {
    ex.send(200, volumes.list());
  }

  private void create(Exchange ex) throws IOException {
    VolumeCreateRequest req =
        ex.hasBody()
            ? ex.readJson(VolumeCreateRequest.class)
            : new VolumeCreateRequest(null, null, null);
    ex.send(201, volumes.create(req));
  }

  private void prune(Exchange ex) throws IOException {
    ex.send(200, volumes.prune(ex.flag("all")));
  }

  private void inspect(Exchange ex) throws IOException {
    ex.send(200, volumes.inspect(ex.path("name")));
  }

  private void remove(Exchange ex) throws IOException {
    String name = ex.path("name");
    volumes.remove(name, ex.flag("force"));
    ex.send(200, Map.of("name", name));
  }
}
