package dev.inferno.daemon.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.LogQuery;
import dev.inferno.daemon.images.ImageOps;
import dev.inferno.daemon.network.AddressPool;
import dev.inferno.daemon.network.Ipv4Cidr;
import dev.inferno.daemon.store.VmNetwork;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.VmIds;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.daemon.volume.VolumeRoutes;
import dev.inferno.model.AuthRequest;
import dev.inferno.model.Created;
import dev.inferno.model.Event;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.Health;
import dev.inferno.model.ImageSummary;
import dev.inferno.model.NetworkSettings;
import dev.inferno.model.Progress;
import dev.inferno.model.PullRequest;
import dev.inferno.model.RunRequest;
import dev.inferno.model.SystemInfo;
import dev.inferno.model.UpdateRequest;
import dev.inferno.model.UpdateResult;
import dev.inferno.model.VersionInfo;
import dev.inferno.model.VmDetail;
import dev.inferno.model.VmState;
import dev.inferno.model.VmSummary;
import dev.inferno.model.stream.Frame;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/** The /v1 API: every route the daemon serves (docs/api.yaml describes the same set). */
public final class Routes {
  public static final String API_VERSION = "v1";
  static final String NDJSON = "application/x-ndjson";

  /** Streams with nothing to say write an empty line this often, to notice a client gone. */
  static final long HEARTBEAT_MILLIS = 15_000;

  /** Image archives can be large; they are streamed, never held in memory. */
  public static final long MAX_ARCHIVE = 64L << 30;

  private final VmService vms;
  private final ImageOps images;
  private final SystemFacts facts;
  private final SessionRoutes sessions;

  /** What /v1/info and /v1/version report that the services do not know. */
  public record SystemFacts(String version, String vmm, String kernel, String stateDir) {}

  public Routes(VmService vms, ImageOps images, SystemFacts facts) {
    this.vms = vms;
    this.images = images;
    this.facts = facts;
    this.sessions = new SessionRoutes(vms);
  }

  /** The one exec table: the Docker API's execs are the same ones. */
  public dev.inferno.daemon.exec.ExecService execs() {
    return sessions.execs();
  }

  /** The image operations, shared with the Docker API. */
  public ImageOps images() {
    return images;
  }

  public SystemFacts facts() {
    return facts;
  }

  public List<Route> all() {
    List<Route> all = new java.util.ArrayList<>(core());
    all.addAll(sessions.all());
    if (vms.volumes() != null) {
      all.addAll(new VolumeRoutes(vms.volumes()).all());
    }
    return List.copyOf(all);
  }

  private List<Route> core() {
    return List.of(
        new Route("GET", "/v1/version", this::version),
        new Route("GET", "/v1/info", this::info),
        new Route("GET", "/v1/vms", this::listVms),
        new Route("POST", "/v1/vms", this::create),
        new Route("GET", "/v1/vms/{id}", this::inspect),
        new Route("DELETE", "/v1/vms/{id}", this::remove),
        new Route("POST", "/v1/vms/{id}/stop", this::stop),
        new Route("POST", "/v1/vms/{id}/kill", this::kill),
        new Route("POST", "/v1/vms/{id}/wait", this::await),
        new Route("POST", "/v1/vms/{id}/start", this::start),
        new Route("POST", "/v1/vms/{id}/restart", this::restart),
        new Route("POST", "/v1/vms/{id}/pause", this::pause),
        new Route("POST", "/v1/vms/{id}/unpause", this::unpause),
        new Route("POST", "/v1/vms/{id}/rename", this::rename),
        new Route("POST", "/v1/vms/{id}/update", this::update),
        new Route("GET", "/v1/vms/{id}/logs", this::logs),
        new Route("GET", "/v1/events", this::events),
        new Route("GET", "/v1/images", this::listImages),
        new Route("GET", "/v1/images/inspect", this::inspectImage),
        new Route("DELETE", "/v1/images", this::removeImage),
        new Route("POST", "/v1/images/pull", this::pull),
        new Route("POST", "/v1/images/load", this::load),
        new Route("GET", "/v1/images/save", this::save),
        new Route("POST", "/v1/images/tag", this::tagImage),
        new Route("GET", "/v1/images/history", this::imageHistory),
        new Route("POST", "/v1/auth", this::login),
        new Route("DELETE", "/v1/auth", this::logout));
  }

  private void version(Exchange ex) throws IOException {
    ex.send(
        200,
        new VersionInfo(
            facts.version(),
            API_VERSION,
            System.getProperty("java.version"),
            System.getProperty("os.name").toLowerCase(Locale.ROOT),
            System.getProperty("os.arch")));
  }

  private void info(Exchange ex) throws Exception {
    List<VmRecord> all = vms.list(true);
    int running = (int) all.stream().filter(v -> v.state() == VmState.RUNNING).count();
    int exited = (int) all.stream().filter(v -> v.state() == VmState.EXITED).count();
    ex.send(
        200,
        new SystemInfo(
            facts.vmm(),
            vms.backend().kvm(),
            facts.kernel(),
            facts.stateDir(),
            all.size(),
            running,
            exited,
            images.count()));
  }

  static VmSummary summary(VmRecord r, VmNetwork net) {
    return new VmSummary(
        r.id(),
        r.name(),
        r.image(),
        r.command(),
        r.state(),
        r.createdAt(),
        r.startedAt(),
        r.finishedAt(),
        r.exit(),
        net == null ? List.of() : net.ports(),
        r.restart().count(),
        null);
  }

  private VmDetail detail(VmRecord r) {
    return withHealth(detail(r, vms.store().network(r.id()).orElse(null)));
  }

  /** Docker's NetworkSettings, where it fits, from the VM's allocation (none: no network). */
  static NetworkSettings networkSettings(VmNetwork n) {
    if (n == null) {
      return NetworkSettings.NONE;
    }
    Ipv4Cidr slot = Ipv4Cidr.parse(n.subnet());
    return new NetworkSettings(
        "default",
        Ipv4Cidr.formatAddress(AddressPool.guestAddress(slot)),
        slot.prefix(),
        Ipv4Cidr.formatAddress(AddressPool.hostAddress(slot)),
        n.mac(),
        n.device(),
        n.ports());
  }

  static VmDetail detail(VmRecord r, VmNetwork net) {
    return new VmDetail(
        r.id(),
        r.name(),
        r.image(),
        r.imageDigest(),
        r.command(),
        r.state(),
        r.createdAt(),
        r.startedAt(),
        r.finishedAt(),
        r.exit(),
        r.pid(),
        r.vmm(),
        r.request(),
        networkSettings(net),
        r.restart().count(),
        null);
  }

  private void listVms(Exchange ex) throws Exception {
    Map<String, VmNetwork> nets = new HashMap<>();
    for (VmNetwork n : vms.store().networks()) {
      nets.put(n.vmId(), n);
    }
    ex.send(
        200,
        vms.list(ex.flag("all")).stream()
            .map(r -> withHealth(summary(r, nets.get(r.id()))))
            .toList());
  }

  private void create(Exchange ex) throws Exception {
    RunRequest req = ex.readJson(RunRequest.class);
    // inferno create: recorded, not started (start=false)
    boolean start = ex.query("start") == null || ex.flag("start");
    if (!start && ex.flag("attach")) {
      throw ApiException.badRequest("attach needs start: drop start=false or attach");
    }
    if (!ex.flag("attach")) {
      VmService.Launched l = vms.create(req, false, start);
      ex.send(201, new Created(l.vm().id(), l.vm().name(), l.warnings()));
      return;
    }
    // attached: one response carries the id, the output from the first byte, and the exit
    VmService.Launched l = vms.create(req, true);
    String id = l.vm().id();
    boolean[] pinned = {true};
    try {
      OutputStream out = ex.stream(Frame.MEDIA_TYPE);
      ObjectMapper json = ex.json();
      Frame.json(
              Frame.Kind.INFO,
              json.writeValueAsString(new Created(id, l.vm().name(), l.warnings())))
          .writeTo(out);
      out.flush();
      // --rm: the VM goes before its exit is told, so a client that has the exit finds it gone
      // (docker run --rm, too, returns once the container is removed)
      streamLogs(
          ex,
          out,
          l.vm(),
          LogQuery.FOLLOW_ALL,
          () -> {
            pinned[0] = false;
            vms.unpin(id);
          });
    } finally {
      if (pinned[0]) {
        vms.unpin(id);
      }
    }
  }

  private void inspect(Exchange ex) throws Exception {
    ex.send(200, detail(vms.resolve(ex.path("id"))));
  }

  private void remove(Exchange ex) throws Exception {
    VmRecord r = vms.remove(ex.path("id"), ex.flag("force"), ex.flag("volumes"));
    ex.send(200, Map.of("id", r.id(), "name", r.name()));
  }

  private void stop(Exchange ex) throws Exception {
    Integer t = ex.integer("timeout");
    ex.send(200, detail(vms.stop(ex.path("id"), ex.query("signal"), t)));
  }

  private void kill(Exchange ex) throws Exception {
    ex.send(200, detail(vms.kill(ex.path("id"), ex.query("signal"))));
  }

  private void await(Exchange ex) throws Exception {
    ExitRecord e = vms.await(ex.path("id"), ex.query("condition"));
    ex.send(200, e);
  }

  private void start(Exchange ex) throws Exception {
    // Docker: 304 when it already runs
    ex.sendEmpty(vms.start(ex.path("id")).isPresent() ? 204 : 304);
  }

  private void restart(Exchange ex) throws Exception {
    Integer t = ex.integer("t");
    vms.restart(ex.path("id"), t != null ? t : ex.integer("timeout"));
    ex.sendEmpty(204);
  }

  private void pause(Exchange ex) throws Exception {
    vms.pause(ex.path("id"));
    ex.sendEmpty(204);
  }

  private void unpause(Exchange ex) throws Exception {
    vms.unpause(ex.path("id"));
    ex.sendEmpty(204);
  }

  private void rename(Exchange ex) throws Exception {
    vms.rename(ex.path("id"), ex.query("name"));
    ex.sendEmpty(204);
  }

  private void update(Exchange ex) throws Exception {
    VmService.Updated u = vms.update(ex.path("id"), ex.readJson(UpdateRequest.class));
    ex.send(200, new UpdateResult(u.vm().id(), u.vm().name(), u.warnings()));
  }

  private void logs(Exchange ex) throws Exception {
    Integer tail = ex.integer("tail");
    if (tail != null && tail < 0) {
      throw ApiException.badRequest("invalid tail=" + tail + ": 0 or more");
    }
    LogQuery q =
        new LogQuery(
            tail == null ? -1 : tail, ex.time("since"), ex.time("until"), ex.flag("follow"));
    VmRecord r = vms.resolve(ex.path("id"));
    OutputStream out = ex.stream(Frame.MEDIA_TYPE);
    streamLogs(ex, out, r, q, () -> {});
  }

  /** The log frames as they come, then ({@code beforeExit} run first) the exit when it has one. */
  private void streamLogs(
      Exchange ex, OutputStream out, VmRecord r, LogQuery q, Runnable beforeExit) throws Exception {
    ExitRecord exit =
        vms.logs(
            r,
            q,
            frame -> {
              frame.writeTo(out);
              out.flush();
            });
    beforeExit.run();
    if (exit != null) {
      Frame.json(Frame.Kind.EXIT, ex.json().writeValueAsString(exit)).writeTo(out);
    }
    out.flush();
  }

  /**
   * Docker's events: {@code since}/{@code until} times (RFC 3339 or Unix seconds; the remembered
   * last 1000 are replayed from since), {@code filter=vm=NAME|ID} and {@code filter=type=TYPE}
   * (repeatable; values of one key are alternatives, keys all apply). With until, the stream ends
   * once that time has passed; without, when the client disconnects.
   */
  private void events(Exchange ex) throws Exception {
    EventFilter filter = EventFilter.of(ex.queryAll("filter"), ex.query("id"));
    java.time.Instant since = ex.time("since");
    java.time.Instant until = ex.time("until");
    if (since != null && until != null && until.isBefore(since)) {
      throw ApiException.badRequest("until is before since: give until after since");
    }
    // subscribed before the 200 goes out: a client that saw it misses no event after it
    try (var sub = vms.events().subscribe(since == null ? Long.MAX_VALUE : 0)) {
      OutputStream out = ex.stream(NDJSON);
      out.flush();
      while (true) {
        long wait = HEARTBEAT_MILLIS;
        if (until != null) {
          long left = java.time.Duration.between(java.time.Instant.now(), until).toMillis();
          wait = Math.max(1, Math.min(wait, left));
        }
        Event e = sub.next(wait);
        if (e == null) {
          if (until != null && !java.time.Instant.now().isBefore(until)) {
            return;
          }
          out.write('\n');
        } else if (until != null && e.time().isAfter(until)) {
          return;
        } else if ((since == null || !e.time().isBefore(since)) && filter.admits(e)) {
          out.write(ex.json().writeValueAsBytes(e));
          out.write('\n');
        } else {
          continue;
        }
        out.flush();
      }
    }
  }

  private void listImages(Exchange ex) throws IOException {
    ex.send(200, images.list());
  }

  private void inspectImage(Exchange ex) throws IOException {
    ex.send(200, images.inspect(ex.query("ref")));
  }

  private void removeImage(Exchange ex) throws Exception {
    ex.send(200, images.remove(ex.query("ref"), ex.flag("force")));
  }

  private void tagImage(Exchange ex) throws Exception {
    ex.send(200, images.tag(ex.query("source"), ex.query("target")));
  }

  private void imageHistory(Exchange ex) throws IOException {
    ex.send(200, images.history(ex.query("ref")));
  }

  private void pull(Exchange ex) throws Exception {
    PullRequest req = ex.readJson(PullRequest.class);
    ImageOps.validate(req.reference());
    ProgressWriter w = new ProgressWriter(ex);
    ImageSummary img = images.pull(req.reference(), req.platform(), w);
    w.line(new Progress("Done", null, null, null, null, img));
  }

  private void login(Exchange ex) throws Exception {
    ex.send(200, images.login(ex.readJson(AuthRequest.class)));
  }

  private void logout(Exchange ex) throws Exception {
    ex.send(200, images.logout(ex.query("server")));
  }

  private void load(Exchange ex) throws Exception {
    ProgressWriter w = new ProgressWriter(ex);
    List<ImageSummary> loaded = images.load(ex.body(MAX_ARCHIVE), w);
    for (ImageSummary img : loaded) {
      w.line(new Progress("Done", null, null, null, null, img));
    }
  }

  private void save(Exchange ex) throws Exception {
    images.save(ex.queryAll("ref"), ex.streamFromFirstByte(SessionRoutes.TAR));
  }

  /**
   * Writes progress as NDJSON from the pulling threads. The response begins with the first line, so
   * a pull that fails before any progress still gets a plain error status.
   */
  private static final class ProgressWriter implements ImageBackend.ProgressListener {
    private final Exchange ex;
    private final ReentrantLock lock = new ReentrantLock();
    private OutputStream out;

    ProgressWriter(Exchange ex) {
      this.ex = ex;
    }

    @Override
    public void progress(String status, String layer, long current, long total) {
      line(
          new Progress(
              status, layer, current < 0 ? null : current, total < 0 ? null : total, null, null));
    }

    void line(Progress p) {
      lock.lock();
      try {
        if (out == null) {
          out = ex.stream(NDJSON);
        }
        out.write(ex.json().writeValueAsBytes(p));
        out.write('\n');
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("the client went away during the pull", e);
      } finally {
        lock.unlock();
      }
    }
  }

  // --- observe: health checks' state in ps and inspect ---

  private Function<String, Health> health = id -> null;

  /** Where ps and inspect read a VM's health from (the daemon's health checks). */
  public void healthFrom(Function<String, Health> source) {
    health = source;
  }

  private VmSummary withHealth(VmSummary s) {
    Health h = s.state().live() ? health.apply(s.id()) : null; // ps: "Up … (healthy)" only
    if (h == null) {
      return s;
    }
    return new VmSummary(
        s.id(),
        s.name(),
        s.image(),
        s.command(),
        s.state(),
        s.createdAt(),
        s.startedAt(),
        s.finishedAt(),
        s.exit(),
        s.ports(),
        s.restartCount(),
        h.status());
  }

  private VmDetail withHealth(VmDetail d) {
    Health h = health.apply(d.id());
    if (h == null) {
      return d;
    }
    return new VmDetail(
        d.id(),
        d.name(),
        d.image(),
        d.imageDigest(),
        d.command(),
        d.state(),
        d.createdAt(),
        d.startedAt(),
        d.finishedAt(),
        d.exit(),
        d.pid(),
        d.vmm(),
        d.request(),
        d.networkSettings(),
        d.restartCount(),
        h);
  }

  static String shortId(String id) {
    return VmIds.shortId(id);
  }
}
