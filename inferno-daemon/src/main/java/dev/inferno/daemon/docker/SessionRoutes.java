package dev.inferno.daemon.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.api.Routes;
import dev.inferno.daemon.backend.LogQuery;
import dev.inferno.daemon.exec.ExecService;
import dev.inferno.daemon.exec.GuestSessions;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.model.ExecCreateRequest;
import dev.inferno.model.ExecDetail;
import dev.inferno.model.stream.Multiplexed;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Docker API routes over a running container's sessions: logs, exec create/start/resize/json,
 * archive GET/PUT/HEAD. A translation onto VmService's logs, the shared {@link ExecService} and
 * {@link GuestSessions}; what Docker spells differently (fields, errors, headers) is mapped here.
 */
final class SessionRoutes {
  static final String PATH_STAT_HEADER = "X-Docker-Container-Path-Stat";
  static final String TAR = "application/x-tar";

  /** ExecConfig fields the Docker clients send (docker CLI 20.10 and 28, docker-java). */
  private static final Set<String> EXEC_START_FIELDS = Set.of("Detach", "Tty", "ConsoleSize");

  private final DockerContext ctx;

  SessionRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of(
        new Route("GET", "/containers/{id}/logs", this::logs),
        new Route("POST", "/containers/{id}/exec", this::createExec),
        new Route("POST", "/exec/{id}/start", this::startExec),
        new Route("POST", "/exec/{id}/resize", this::resizeExec),
        new Route("GET", "/exec/{id}/json", this::inspectExec),
        new Route("GET", "/containers/{id}/archive", this::getArchive),
        new Route("HEAD", "/containers/{id}/archive", this::statArchive),
        new Route("PUT", "/containers/{id}/archive", this::putArchive));
  }

  // ---- logs

  private void logs(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    boolean stdout = ex.flag("stdout");
    boolean stderr = ex.flag("stderr");
    if (!stdout && !stderr) {
      throw ApiException.badRequest(
          "You must choose at least one stream: add stdout=1 and/or stderr=1");
    }
    LogQuery q =
        new LogQuery(
            tail(ex.query("tail")), time(ex, "since"), time(ex, "until"), ex.flag("follow"));
    boolean tty = Boolean.TRUE.equals(r.request().tty());
    OutputStream out = ex.stream(tty ? Multiplexed.RAW_MEDIA_TYPE : Multiplexed.MEDIA_TYPE);
    LogWriter w = new LogWriter(out, stdout, stderr, ex.flag("timestamps"), tty);
    // with follow (and no until) this returns once the container exited and all was written
    ctx.vms().logs(r, q, w::write);
    out.flush();
  }

  /** dockerd's tail: "all" (or none) is every line, a negative number too; else N lines. */
  static int tail(String v) {
    if (v == null || v.isEmpty() || v.equals("all")) {
      return -1;
    }
    try {
      return Math.max(-1, Integer.parseInt(v));
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("invalid tail=" + v + ": a number of lines or \"all\"");
    }
  }

  /** since/until: Unix seconds (what the CLIs send) or RFC 3339; 0 means unset, as in dockerd. */
  private static Instant time(Exchange ex, String name) {
    Instant t = ex.time(name);
    return t == null || t.equals(Instant.EPOCH) ? null : t;
  }

  // ---- exec

  private void createExec(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    JsonNode body = ex.readJson(JsonNode.class);
    if (!body.isObject()) {
      throw ApiException.badRequest("the exec config must be a JSON object");
    }
    // Docker's fields (Cmd, Env, User, WorkingDir, Tty, AttachStd*, ConsoleSize, Privileged,
    // DetachKeys) are read or refused below; any other field is ignored, as
    // dockerd's decoder ignores it: docker-java (Testcontainers) sends "containerId" in the body
    if (bool(body, "Privileged")) {
      throw ApiException.badRequest(
          "Privileged is not supported: an exec runs inside the container's microVM, whose"
              + " guest has no host privileges to grant; drop --privileged");
    }
    String detachKeys = text(body, "DetachKeys");
    if (detachKeys != null && !detachKeys.isEmpty()) {
      throw ApiException.badRequest(
          "DetachKeys is not supported for exec: leave it empty (detach-keys in the docker"
              + " config or --detach-keys apply to attach only)");
    }
    ExecCreateRequest req =
        new ExecCreateRequest(
            strings(body, "Cmd"),
            strings(body, "Env"),
            emptyToNull(text(body, "User")),
            emptyToNull(text(body, "WorkingDir")),
            bool(body, "Tty"),
            bool(body, "AttachStdin"),
            consoleSize(body));
    ExecDetail d;
    try {
      d = ctx.execs().create(r.id(), req);
    } catch (ApiException e) {
      if (e.status() == 409) {
        throw ApiException.conflict("Container " + r.id() + " is not running: " + e.getMessage());
      }
      throw e;
    }
    ex.send(201, Map.of("Id", d.id()));
  }

  private void startExec(Exchange ex) throws Exception {
    String id = ex.path("id");
    ExecDetail d = exec(id); // 404 first
    JsonNode body = ex.hasBody() ? ex.readJson(JsonNode.class) : null;
    boolean detach = false;
    List<Integer> size = null;
    if (body != null) {
      body.fieldNames()
          .forEachRemaining(f -> {
            if (!EXEC_START_FIELDS.contains(f)) {
              throw ApiException.badRequest("unknown field \"" + f + "\" in the exec start");
            }
          });
      detach = bool(body, "Detach");
      size = consoleSize(body);
    }
    ExecService execs = ctx.execs();
    GuestExec guest = execs.claim(id);
    ExecService.Opened opened = execs.open(id, guest);
    if (size != null && d.tty() && execs.inspect(id).running()) {
      int[] s = VmService.consoleSize(size);
      try {
        execs.resize(id, s[0], s[1]);
      } catch (ApiException e) {
        // it ended already: nothing to size
      }
    }
    if (detach) {
      execs.runDetached(opened);
      ex.sendEmpty(200);
      return;
    }
    String type = execs.mediaType(id);
    if (ex.upgradeRequested()) {
      ex.upgrade(type, s -> execs.serve(opened, s), () -> execs.runDetached(opened));
    } else {
      // docker-java starts an exec without stdin with no Upgrade header and reads the output
      // from the response, as dockerd serves it (hijacked without a 101)
      execs.serve(opened, InputStream.nullInputStream(), ex.stream(type));
    }
  }

  private void resizeExec(Exchange ex) throws Exception {
    String id = ex.path("id");
    exec(id);
    Integer h = ex.integer("h");
    Integer w = ex.integer("w");
    if (h == null || w == null) {
      throw ApiException.badRequest("resize needs h (rows) and w (columns)");
    }
    int[] s = VmService.consoleSize(List.of(h, w));
    ctx.execs().resize(id, s[0], s[1]);
    ex.sendEmpty(200);
  }

  private void inspectExec(Exchange ex) throws Exception {
    String id = ex.path("id");
    ExecDetail d = exec(id);
    List<String> cmd = d.cmd();
    Map<String, Object> pc = new LinkedHashMap<>();
    pc.put("tty", d.tty());
    pc.put("entrypoint", cmd.getFirst());
    pc.put("arguments", cmd.subList(1, cmd.size()));
    pc.put("privileged", false);
    pc.put("user", ctx.execs().user(id));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ID", d.id());
    m.put("Running", d.running());
    m.put("ExitCode", d.exitCode());
    m.put("ProcessConfig", pc);
    m.put("OpenStdin", d.stdin());
    // an attached start streams both outputs (inferno's exec has no per-stream selection)
    m.put("OpenStderr", true);
    m.put("OpenStdout", true);
    m.put("CanRemove", false);
    m.put("ContainerID", d.vmId());
    m.put("DetachKeys", "");
    m.put("Pid", d.pid() == null ? 0 : d.pid());
    ex.send(200, m);
  }

  /** The exec, or dockerd's 404 "No such exec instance". */
  private ExecDetail exec(String id) {
    try {
      return ctx.execs().inspect(id);
    } catch (ApiException e) {
      if (e.status() == 404) {
        throw ApiException.notFound("No such exec instance: " + id);
      }
      throw e;
    }
  }

  // ---- archive

  /** The path in the container: relative paths are from its root, as dockerd takes them. */
  private static String path(Exchange ex) {
    String p = ex.query("path");
    if (p == null || p.isEmpty()) {
      throw ApiException.badRequest("path is required: the path in the container");
    }
    return p.startsWith("/") ? p : "/" + p;
  }

  private GuestExec running(VmRecord r) {
    try {
      return ctx.vms().guest(r);
    } catch (ApiException e) {
      if (e.status() == 409) {
        throw ApiException.conflict(
            "Container "
                + r.id()
                + " is not running: inferno copies through the running VM's guest (start it"
                + " first)");
      }
      throw e;
    }
  }

  private void statArchive(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    String path = path(ex);
    ex.header(PATH_STAT_HEADER, GuestSessions.stat(running(r), path));
    ex.stream(TAR);
  }

  private void getArchive(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    String path = path(ex);
    GuestExec guest = running(r);
    ex.header(PATH_STAT_HEADER, GuestSessions.stat(guest, path));
    GuestSessions.archiveGet(guest, path, () -> ex.stream(TAR));
  }

  private void putArchive(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    String path = path(ex);
    ex.flag("noOverwriteDirNonDir"); // validated; the guest replaces files and merges directories
    if (ex.flag("copyUIDGID")) {
      throw ApiException.badRequest(
          "copyUIDGID is not supported: the archive's owners are kept as they are; drop -a"
              + " (--archive) and chown inside the container if needed");
    }
    GuestSessions.archivePut(running(r), path, () -> ex.body(Routes.MAX_ARCHIVE));
    ex.sendEmpty(200);
  }

  // ---- body fields

  private static boolean bool(JsonNode body, String f) {
    JsonNode v = body.get(f);
    if (v == null || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw ApiException.badRequest("invalid " + f + ": expected true or false");
    }
    return v.booleanValue();
  }

  private static String text(JsonNode body, String f) {
    JsonNode v = body.get(f);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw ApiException.badRequest("invalid " + f + ": expected a string");
    }
    return v.textValue();
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static List<String> strings(JsonNode body, String f) {
    JsonNode v = body.get(f);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isArray()) {
      throw ApiException.badRequest("invalid " + f + ": expected an array of strings");
    }
    List<String> l = new ArrayList<>();
    for (JsonNode e : v) {
      if (!e.isTextual()) {
        throw ApiException.badRequest("invalid " + f + ": expected an array of strings");
      }
      l.add(e.textValue());
    }
    return l;
  }

  /** Docker's ConsoleSize {@code [height, width]}; null or [0, 0] is "not given". */
  private static List<Integer> consoleSize(JsonNode body) {
    JsonNode v = body.get("ConsoleSize");
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isArray()
        || v.size() != 2
        || !v.get(0).canConvertToInt()
        || !v.get(1).canConvertToInt()) {
      throw ApiException.badRequest("invalid ConsoleSize: expected [height, width]");
    }
    int h = v.get(0).asInt();
    int w = v.get(1).asInt();
    return h == 0 && w == 0 ? null : List.of(h, w);
  }
}
