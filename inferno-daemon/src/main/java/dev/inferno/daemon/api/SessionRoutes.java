package dev.inferno.daemon.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.inferno.daemon.exec.Attach;
import dev.inferno.daemon.exec.DetachKeys;
import dev.inferno.daemon.exec.ExecService;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.kiln.exec.ExecProcess;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.ExecStartException;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.model.ExecCreateRequest;
import dev.inferno.model.ExecStartRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

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
    GuestExec guest = vms.guest(r);
    ex.upgrade(Attach.mediaType(r), s -> Attach.serve(vms, r, guest, o, s));
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

  /**
   * Opens a session that reads nothing; a refusal becomes the API's error (the guest's "no such
   * file or directory" is 404).
   */
  private static ExecProcess open(GuestExec guest, ExecRequest req) throws Exception {
    try {
      return guest.open(req);
    } catch (ExecStartException e) {
      String msg = e.getMessage();
      if (msg != null && msg.contains("no such")) {
        throw ApiException.notFound(msg);
      }
      throw ApiException.badRequest(msg);
    } catch (IOException e) {
      throw ApiException.conflict("the VM's session channel is not available: " + e.getMessage());
    }
  }

  /** A session's whole output by stream, and its exit. */
  private static final class Collected {
    private final byte[] stdout;
    private final String stderr;
    private final ExitReport exit;

    Collected(byte[] stdout, String stderr, ExitReport exit) {
      this.stdout = stdout;
      this.stderr = stderr;
      this.exit = exit;
    }

    byte[] stdout() {
      return stdout;
    }

    String stderr() {
      return stderr;
    }

    ExitReport exit() {
      return exit;
    }
  }

  private static Collected collect(ExecProcess p) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (p) {
      for (ExecProcess.Output o = p.read(); o != null; o = p.read()) {
        (o.stream() == 2 ? err : out).write(o.bytes());
      }
      return new Collected(out.toByteArray(), err.toString(StandardCharsets.UTF_8), p.exit().get());
    } catch (ExecutionException e) {
      throw ApiException.internal("the guest's session failed: " + e.getCause().getMessage(), e);
    }
  }

  /** The stat JSON of a path in the guest, base64 for the header. */
  private String stat(GuestExec guest, String path) throws Exception {
    Collected c = collect(open(guest, new ExecRequest.Stat(path)));
    if (c.exit().code() != 0) {
      throw ApiException.notFound(c.exit().error() != null ? c.exit().error() : c.stderr().trim());
    }
    return Base64.getEncoder().encodeToString(c.stdout());
  }

  private void statArchive(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    String path = pathParam(ex);
    ex.header(PATH_STAT_HEADER, stat(vms.guest(r), path));
    ex.stream(TAR);
  }

  private void getArchive(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    String path = pathParam(ex);
    GuestExec guest = vms.guest(r);
    ex.header(PATH_STAT_HEADER, stat(guest, path));
    ExecProcess p = open(guest, new ExecRequest.ArchiveGet(path));
    try (p) {
      OutputStream out = ex.stream(TAR);
      StringBuilder err = new StringBuilder();
      for (ExecProcess.Output o = p.read(); o != null; o = p.read()) {
        if (o.stream() == 1) {
          out.write(o.bytes());
        } else {
          err.append(new String(o.bytes(), StandardCharsets.UTF_8));
        }
      }
      ExitReport exit = p.exit().get();
      if (exit.code() != 0) {
        throw new IOException(
            "the guest's archive of " + path + " failed (exit " + exit.code() + "): " + err);
      }
      out.flush();
    }
  }

  private void putArchive(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    String path = pathParam(ex);
    ExecProcess p = open(vms.guest(r), new ExecRequest.ArchivePut(path));
    Thread copy =
        Thread.ofVirtual()
            .start(() -> {
              try (InputStream in = ex.body(Routes.MAX_ARCHIVE);
                  OutputStream stdin = p.stdin()) {
                in.transferTo(stdin);
              } catch (IOException | RuntimeException e) {
                // the guest refused the archive (its reason comes from stream 2) or the client left
              }
            });
    Collected c = collect(p);
    copy.join();
    if (c.exit().code() != 0) {
      String why = !c.stderr().isBlank() ? c.stderr().trim() : c.exit().error();
      throw ApiException.badRequest("the VM refused the archive: " + why);
    }
    ex.send(200, Map.of());
  }

  private void top(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    Collected c = collect(open(vms.guest(r), new ExecRequest.Top()));
    if (c.exit().code() != 0) {
      throw ApiException.internal(
          "the guest could not list its processes: " + c.stderr().trim(), null);
    }
    JsonNode tree = ex.json().readTree(c.stdout());
    ex.send(200, tree);
  }
}
