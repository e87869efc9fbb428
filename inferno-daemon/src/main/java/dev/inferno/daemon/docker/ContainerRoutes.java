package dev.inferno.daemon.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.exec.Attach;
import dev.inferno.daemon.exec.DetachKeys;
import dev.inferno.daemon.store.VmNetwork;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import java.io.OutputStream;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Docker API routes for containers (docs/docker-api.md, "Containers"): create, start, wait, attach,
 * resize, stop, kill, restart, DELETE, json (list) and {id}/json (inspect) — each a translation
 * onto {@link VmService} and {@link Attach}.
 */
final class ContainerRoutes {
  /** The filters {@code GET /containers/json} takes. */
  private static final Set<String> FILTERS =
      Set.of("id", "name", "label", "status", "ancestor", "exited");

  private static final Set<String> STATUSES =
      Set.of("created", "restarting", "running", "removing", "paused", "exited", "dead");

  private final DockerContext ctx;
  private final VmService vms;

  ContainerRoutes(DockerContext ctx) {
    this.ctx = ctx;
    this.vms = ctx.vms();
  }

  List<Route> all() {
    return List.of(
        new Route("POST", "/containers/create", this::create),
        new Route("GET", "/containers/json", this::list),
        new Route("GET", "/containers/{id}/json", this::inspect),
        new Route("POST", "/containers/{id}/start", this::start),
        new Route("POST", "/containers/{id}/wait", this::await),
        new Route("POST", "/containers/{id}/attach", this::attach),
        new Route("POST", "/containers/{id}/resize", this::resize),
        new Route("POST", "/containers/{id}/stop", this::stop),
        new Route("POST", "/containers/{id}/kill", this::kill),
        new Route("POST", "/containers/{id}/restart", this::restart),
        new Route("DELETE", "/containers/{id}", this::remove));
  }

  private void create(Exchange ex) throws Exception {
    RunRequest req = ContainerCreate.translate(ex.readJson(JsonNode.class), ex.query("name"));
    // create does not pull: the client pulls on a 404 (POST /images/create) and creates again
    try {
      ctx.images().inspect(req.image());
    } catch (ApiException e) {
      if (e.status() == 404) {
        throw ApiException.notFound("No such image: " + req.image());
      }
      throw e;
    }
    VmService.Launched l;
    try {
      l = vms.create(req.withPull("never"), false, false);
    } catch (ApiException e) {
      var owner = req.name() == null ? null : vms.store().byName(req.name()).orElse(null);
      if (e.status() == 409 && owner != null) {
        throw ApiException.conflict(ContainerOpsRoutes.nameInUse(req.name(), owner.id()));
      }
      throw e;
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("Id", l.vm().id());
    body.put("Warnings", l.warnings());
    ex.send(201, body);
  }

  private void list(Exchange ex) throws Exception {
    DockerFilters f = DockerFilters.parse(ex.query("filters"), ctx.json(), FILTERS);
    for (String s : f.get("status")) {
      if (!STATUSES.contains(s)) {
        throw ApiException.badRequest(
            "invalid filter 'status="
                + s
                + "': "
                + String.join(", ", STATUSES.stream().sorted().toList()));
      }
    }
    Integer limit = ex.integer("limit");
    // as dockerd: a limit or a status filter looks at every container, not only running ones
    boolean all = ex.flag("all") || (limit != null && limit > 0) || !f.get("status").isEmpty();
    Map<String, VmNetwork> nets = new HashMap<>();
    for (VmNetwork n : vms.store().networks()) {
      nets.put(n.vmId(), n);
    }
    Instant now = Instant.now();
    String networkId = NetworkShapes.Net.BRIDGE.id(ctx.daemonId());
    // size (docker ps --size): what each writable disk allocates, and that plus the image's files
    ContainerSizes sizes = ex.flag("size") ? ContainerSizes.of(ctx) : null;
    List<ContainerShapes.Summary> out =
        vms.list(all).stream()
            .filter(r -> admits(f, r))
            .sorted(Comparator.comparing(VmRecord::createdAt).reversed())
            .limit(limit != null && limit > 0 ? limit : Long.MAX_VALUE)
            .map(r ->
                ContainerShapes.summary(
                    r,
                    nets.get(r.id()),
                    networkId,
                    health(r),
                    now,
                    sizes == null ? null : sizes.rw(r),
                    sizes == null ? null : sizes.rootFs(r)))
            .toList();
    ex.send(200, out);
  }

  private static boolean admits(DockerFilters f, VmRecord r) {
    return f.admits("id", v -> r.id().startsWith(v))
        && f.admits("name", v -> nameMatches(v, r.name()))
        && f.admits("status", v -> v.equals(ContainerShapes.state(r)))
        && f.admits("ancestor", v -> ancestor(v, r))
        && f.admits(
            "exited",
            v ->
                r.state() == VmState.EXITED
                    && v.equals(String.valueOf(ContainerShapes.exitCode(r.exit()))))
        && f.labels(ContainerShapes.labels(r.request())); // every one given, as dockerd
  }

  /** dockerd matches names as a regular expression, against "/name". */
  private static boolean nameMatches(String pattern, String name) {
    try {
      return Pattern.compile(pattern).matcher("/" + name).find();
    } catch (PatternSyntaxException e) {
      throw ApiException.badRequest("invalid filter 'name=" + pattern + "': " + e.getDescription());
    }
  }

  /**
   * The image as run ({@code busybox} is {@code docker.io/library/busybox:latest}), or its digest.
   */
  private static boolean ancestor(String v, VmRecord r) {
    String img = r.request().image();
    if (v.equals(img) || (r.imageDigest() != null && r.imageDigest().startsWith(v))) {
      return true;
    }
    try {
      return dev.inferno.image.ref.ImageRef.parse(v).toString().equals(img);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private dev.inferno.model.Health health(VmRecord r) {
    return r.state().live() ? ctx.health().apply(r.id()) : null;
  }

  private void inspect(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    VmNetwork net = vms.store().network(r.id()).orElse(null);
    ex.send(
        200,
        ContainerShapes.inspect(
            r, net, NetworkShapes.Net.BRIDGE.id(ctx.daemonId()), ctx.health().apply(r.id())));
  }

  private void start(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    // dockerd: 304 when it already runs
    ex.sendEmpty(vms.start(r.id()).isPresent() ? 204 : 304);
  }

  /**
   * The headers go out once the wait is registered, as dockerd's: {@code docker run} starts the
   * container only after it has them, and must not miss a fast exit.
   */
  private void await(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    OutputStream[] out = new OutputStream[1];
    ExitRecord e =
        vms.await(
            r.id(),
            ex.query("condition"),
            () -> {
              out[0] = ex.stream("application/json");
              try {
                out[0].flush();
              } catch (java.io.IOException io) {
                throw new java.io.UncheckedIOException(io);
              }
            });
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("StatusCode", ContainerShapes.exitCode(e));
    body.put(
        "Error",
        e != null && e.reason() != null && e.code() == null ? Map.of("Message", e.reason()) : null);
    out[0].write(ctx.json().writeValueAsBytes(body));
    out[0].write('\n');
    out[0].flush();
  }

  private void attach(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    if (ex.query("stream") != null && !ex.flag("stream") && !ex.flag("logs")) {
      throw ApiException.badRequest("attach needs stream=1 or logs=1: there is nothing to send");
    }
    if (ex.query("stream") != null && !ex.flag("stream")) {
      throw ApiException.badRequest(
          "attach with logs=1 and stream=0 is not supported: read GET /containers/{id}/logs");
    }
    DetachKeys keys;
    try {
      keys = DetachKeys.parse(ex.query("detachKeys"));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    Attach.Options o =
        new Attach.Options(
            ex.flag("stdin"),
            ex.flag("logs"),
            Boolean.TRUE.equals(r.request().interactive()), // dockerd: the config's StdinOnce
            keys,
            ex.flag("stdout"),
            ex.flag("stderr"));
    Instant from = Instant.now();
    String id = r.id();
    vms.pin(id); // an --rm container stays until its output was sent
    try {
      ex.upgrade(
          Attach.mediaType(r),
          s -> {
            try {
              Attach.serveOnceBooted(vms, r, from, o, s);
            } finally {
              vms.unpin(id);
            }
          },
          () -> vms.unpin(id));
    } catch (RuntimeException e) {
      vms.unpin(id);
      throw e;
    }
  }

  private void resize(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    Integer h = ex.integer("h");
    Integer w = ex.integer("w");
    if (h == null || w == null) {
      throw ApiException.badRequest("resize needs h (rows) and w (columns)");
    }
    if (!r.state().live()) {
      throw ApiException.conflict("Container " + r.id() + " is not running");
    }
    int[] s = VmService.consoleSize(List.of(h, w));
    vms.guest(r).resizeMain(s[0], s[1]);
    ex.send(200, Map.of());
  }

  private Integer timeout(Exchange ex) {
    Integer t = ex.integer("t");
    return t != null ? t : ex.integer("timeout");
  }

  private void stop(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    if (!r.state().live()) {
      ex.sendEmpty(304); // dockerd: already stopped
      return;
    }
    vms.stop(r.id(), emptyIsNull(ex.query("signal")), timeout(ex));
    ex.sendEmpty(204);
  }

  private void kill(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    if (!r.state().live()) {
      throw ApiException.conflict(
          "Cannot kill container: " + ex.path("id") + ": Container " + r.id() + " is not running");
    }
    vms.kill(r.id(), emptyIsNull(ex.query("signal")));
    ex.sendEmpty(204);
  }

  private void restart(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    vms.restart(r.id(), timeout(ex));
    ex.sendEmpty(204);
  }

  private void remove(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    if (ex.flag("link")) {
      throw ContainerCreate.unsupported("link");
    }
    boolean force = ex.flag("force");
    if (!force && (r.state().live() || r.state() == VmState.RESTARTING)) {
      throw ApiException.conflict(
          "cannot remove container \"/"
              + r.name()
              + "\": container is "
              + ContainerShapes.state(r)
              + ": stop the container before removing or force remove");
    }
    vms.remove(r.id(), force, ex.flag("v"));
    ex.sendEmpty(204);
  }

  private static String emptyIsNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
