package dev.inferno.daemon.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.inferno.daemon.exec.Attach;
import dev.inferno.daemon.exec.DetachKeys;
import dev.inferno.daemon.exec.ExecService;
import dev.inferno.daemon.exec.GuestSessions;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.model.ExecCreateRequest;
import dev.inferno.model.ExecStartRequest;
import java.util.List;
import java.util.Map;

/**
 * The interactive routes (issue 11): attach, resize, exec, archive (cp) and top. Streams after an
 * upgrade are Docker's ({@link dev.inferno.model.stream.Multiplexed}); the daemon relays archive
 * bytes and never unpacks a tar on the host.
 */
final class SessionRoutes {
  static final String TAR = "application/x-tar";
  static final String PATH_STAT_HEADER = "X-Inferno-Path-Stat";

  private final VmService vms;
  private final ExecService execs;

  SessionRoutes(VmService vms) {
    this.vms = vms;
    this.execs = new ExecService(vms);
  }

  ExecService execs() {
    return execs;
  }

  List<Route> all() {
    return List.of(
        new Route("POST", "/v1/vms/{id}/attach", this::attach),
        new Route("POST", "/v1/vms/{id}/resize", this::resize),
        new Route("POST", "/v1/vms/{id}/exec", this::createExec),
        new Route("POST", "/v1/exec/{id}/start", this::startExec),
        new Route("POST", "/v1/exec/{id}/resize", this::resizeExec),
        new Route("GET", "/v1/exec/{id}", this::inspectExec),
        new Route("GET", "/v1/vms/{id}/archive", this::getArchive),
        new Route("HEAD", "/v1/vms/{id}/archive", this::statArchive),
        new Route("PUT", "/v1/vms/{id}/archive", this::putArchive),
        new Route("GET", "/v1/vms/{id}/top", this::top));
  }

  private void attach(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    DetachKeys keys;
    try {
      keys = DetachKeys.parse(ex.query("detachKeys"));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    Attach.Options o =
        new Attach.Options(ex.flag("stdin"), ex.flag("logs"), ex.flag("stdinOnce"), keys);
    // since: the output from a time before this request (start -i: from just before its start)
    java.time.Instant since = ex.time("since");
    GuestExec guest = vms.guest(r);
    java.time.Instant from = since != null ? since : java.time.Instant.now();
    ex.upgrade(Attach.mediaType(r), s -> Attach.serve(vms, r, guest, from, o, s));
  }

  /** {@code h} and {@code w}, both required, 1 to 65535. */
  private static int[] size(Exchange ex) {
    Integer h = ex.integer("h");
    Integer w = ex.integer("w");
    if (h == null || w == null) {
      throw ApiException.badRequest("resize needs h (rows) and w (columns)");
    }
    return VmService.consoleSize(List.of(h, w));
  }

  private void resize(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    int[] s = size(ex);
    vms.guest(r).resizeMain(s[0], s[1]);
    ex.send(200, Map.of());
  }

  private void createExec(Exchange ex) throws Exception {
    ExecCreateRequest req = ex.readJson(ExecCreateRequest.class);
    ex.send(201, Map.of("id", execs.create(ex.path("id"), req).id()));
  }

  private void startExec(Exchange ex) throws Exception {
    String id = ex.path("id");
    execs.inspect(id); // 404 first
    ExecStartRequest req =
        ex.hasBody() ? ex.readJson(ExecStartRequest.class) : new ExecStartRequest(false);
    boolean detach = Boolean.TRUE.equals(req.detach());
    if (!detach && !ex.upgradeRequested()) {
      throw ApiException.badRequest(
          "an attached exec start streams both ways: send \"Connection: Upgrade\" and"
              + " \"Upgrade: tcp\", or {\"detach\":true}");
    }
    GuestExec guest = execs.claim(id);
    // the guest answers before the client hears back: inspect is right from then on
    ExecService.Opened opened = execs.open(id, guest);
    if (detach) {
      execs.runDetached(opened);
      ex.send(200, Map.of());
      return;
    }
    ex.upgrade(execs.mediaType(id), s -> execs.serve(opened, s), () -> execs.runDetached(opened));
  }

  private void resizeExec(Exchange ex) throws Exception {
    String id = ex.path("id");
    execs.inspect(id);
    int[] s = size(ex);
    execs.resize(id, s[0], s[1]);
    ex.send(200, Map.of());
  }

  private void inspectExec(Exchange ex) throws Exception {
    ex.send(200, execs.inspect(ex.path("id")));
  }

  private static String pathParam(Exchange ex) {
    String p = ex.query("path");
    if (p == null || p.isEmpty()) {
      throw ApiException.badRequest("path is required: the path in the VM");
    }
    if (!p.startsWith("/")) {
      throw ApiException.badRequest("invalid path \"" + p + "\": it must be absolute in the VM");
    }
    return p;
  }

  private void statArchive(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    String path = pathParam(ex);
    ex.header(PATH_STAT_HEADER, GuestSessions.stat(vms.guest(r), path));
    ex.stream(TAR);
  }

  private void getArchive(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    String path = pathParam(ex);
    GuestExec guest = vms.guest(r);
    ex.header(PATH_STAT_HEADER, GuestSessions.stat(guest, path));
    GuestSessions.archiveGet(guest, path, () -> ex.stream(TAR));
  }

  private void putArchive(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    String path = pathParam(ex);
    GuestSessions.archivePut(vms.guest(r), path, () -> ex.body(Routes.MAX_ARCHIVE));
    ex.send(200, Map.of());
  }

  private void top(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    JsonNode tree = ex.json().readTree(GuestSessions.top(vms.guest(r)));
    ex.send(200, tree);
  }
}
