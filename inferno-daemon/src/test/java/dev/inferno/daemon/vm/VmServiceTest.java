package dev.inferno.daemon.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.daemon.api.ApiJson;
import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.backend.LaunchSpec;
import dev.inferno.daemon.backend.LogQuery;
import dev.inferno.daemon.backend.VmBackend;
import dev.inferno.daemon.backend.VmHandle;
import dev.inferno.daemon.network.VmNetworks;
import dev.inferno.daemon.store.Database;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.store.VmStore;
import dev.inferno.daemon.testing.MemoryImageBackend;
import dev.inferno.daemon.testing.ProcessVmBackend;
import dev.inferno.daemon.testing.TestNetworks;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import dev.inferno.model.stream.Frame;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmServiceTest {
  @TempDir Path dir;
  Database db;
  ProcessVmBackend backend = new ProcessVmBackend();
  MemoryImageBackend images = new MemoryImageBackend().publish("busybox", List.of("sh"));
  EventBus events = new EventBus();
  VmService vms;

  @BeforeEach
  void setUp() throws Exception {
    db = Database.open(dir.resolve("db"));
    vms = service(db, backend);
    vms.restoreNetworks(); // the daemon's start: the (test) nftables table exists from here
  }

  VmService service(Database d, VmBackend b) throws Exception {
    VmStore store = new VmStore(d, ApiJson.mapper());
    VmService s =
        new VmService(
            store,
            images,
            b,
            events,
            new Defaults(1, 256L << 20, "auto", 2),
            new VmNetworks(store, TestNetworks.settings()));
    return s;
  }

  @AfterEach
  void tearDown() throws Exception {
    backend.killAll();
    vms.networks().close();
    db.close();
    TestNetworks.cleanUp();
  }

  static RunRequest sh(String script) {
    return RunRequest.of("busybox").withCmd(List.of("sh", "-c", script));
  }

  static RunRequest request(List<String> entrypoint, List<String> cmd, String workdir) {
    return RunRequest.builder("busybox").entrypoint(entrypoint).cmd(cmd).workdir(workdir).build();
  }

  @Test
  void theCommandIsDockersMergeFixedAtCreation() throws Exception {
    // the image's Cmd is ["sh"]; an empty cmd is absent (moby), so the image's runs
    VmRecord r = vms.create(request(null, List.of(), null).withName("m1"), false).vm();
    assertThat(r.command()).containsExactly("sh");
    assertThat(r.request().entrypoint()).isEmpty();
    assertThat(r.request().cmd()).containsExactly("sh");
    assertThat(r.request().workdir()).isEqualTo("/");
    // --entrypoint "" with a cmd: the cmd alone
    r =
        vms.create(request(List.of(), List.of("sh", "-c", "exit 4"), null).withName("m2"), false)
            .vm();
    assertThat(r.command()).containsExactly("sh", "-c", "exit 4");
    assertThat(vms.await("m2").code()).isEqualTo(4);
    // --entrypoint "" alone: the image's cmd (the daemon used to refuse it as "no command")
    r = vms.create(request(List.of(), null, null).withName("m4"), false).vm();
    assertThat(r.command()).containsExactly("sh");
    // an entrypoint drops the image's cmd
    r = vms.create(request(List.of("true"), null, null).withName("m3"), false).vm();
    assertThat(r.command()).containsExactly("true");
  }

  @Test
  void aRelativeWorkdirIsRefusedUpFrontAndLeavesNoRecord() throws Exception {
    assertThatThrownBy(() -> vms.create(request(null, null, "srv").withName("w1"), false))
        .isInstanceOf(ApiException.class)
        .hasMessageContaining("needs to be an absolute path")
        .satisfies(e -> assertThat(((ApiException) e).status()).isEqualTo(400));
    assertThat(vms.list(true)).noneMatch(v -> v.name().equals("w1"));
  }

  @Test
  void runsToCompletionWithOutputAndExitCode() throws Exception {
    VmRecord r = vms.create(sh("echo out; echo err >&2; exit 3").withName("t1"), false).vm();
    assertThat(r.state()).isEqualTo(VmState.RUNNING);
    assertThat(r.image()).isEqualTo("docker.io/library/busybox:latest");
    ExitRecord e = vms.await("t1");
    assertThat(e.code()).isEqualTo(3);
    assertThat(vms.resolve("t1").state()).isEqualTo(VmState.EXITED);
    List<String> lines = new ArrayList<>();
    vms.logs(
        "t1",
        LogQuery.ALL,
        rec ->
            lines.add(rec.kind() + ":" + new String(rec.payload(), StandardCharsets.UTF_8).trim()));
    assertThat(lines).containsExactlyInAnyOrder("STDOUT:out", "STDERR:err");
    // created, started, exited in order, with the exit code
    var sub = events.subscribe(0);
    List<String> types = new ArrayList<>();
    for (var ev = sub.next(100); ev != null; ev = sub.next(100)) {
      types.add(ev.type());
    }
    assertThat(types).containsSubsequence("created", "started", "exited");
  }

  @Test
  void requestsAreValidatedBeforeAnythingIsRecorded() throws Exception {
    assertThatThrownBy(() -> vms.create(sh("true").withName("-bad"), false))
        .hasMessageContaining("invalid VM name");
    assertThatThrownBy(() -> vms.create(RunRequest.of("Bad:Ref:x"), false))
        .hasMessageContaining("invalid reference format");
    // the image side's error passes through untranslated; the API maps it to 404 (ApiTest)
    assertThatThrownBy(() -> vms.create(RunRequest.of("nosuchimage"), false))
        .isInstanceOfSatisfying(
            BackendException.class,
            e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND))
        .hasMessageContaining("manifest unknown");
    assertThatThrownBy(() -> vms.create(RunRequest.of("busybox").withPull("never"), false))
        .hasMessageContaining("no such image");
    assertThat(vms.list(true)).isEmpty();
    vms.create(sh("true").withName("dup"), false);
    assertThatThrownBy(() -> vms.create(sh("true").withName("dup"), false))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("already in use");
  }

  static RunRequest sized(Double cpus, Long memoryBytes) {
    return RunRequest.builder("busybox")
        .cmd(List.of("true"))
        .cpus(cpus)
        .memoryBytes(memoryBytes)
        .build();
  }

  @Test
  void sizesKilnRefusesAreRefusedUpFrontWithNoRecord() throws Exception {
    // kiln's VmSpec owns the limits; the daemon asks it before it records anything
    for (RunRequest r :
        List.of(
            sized(33.0, null),
            sized(32.5, null), // rounded up to 33
            sized(0.0, null),
            sized(null, 16L << 20),
            sized(null, VmSpec.hostMemoryBytes() + (1L << 30)))) {
      assertThatThrownBy(() -> vms.create(r, false), String.valueOf(r))
          .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400));
    }
    assertThatThrownBy(() -> vms.create(sized(64.0, null), false))
        .hasMessage("vcpus must be 1 to 32 (the VMM's limit), not 64");
    assertThatThrownBy(() -> vms.create(sized(null, 1L << 50), false))
        .hasMessageContaining("MemTotal in /proc/meminfo");
    assertThat(vms.list(true)).as("nothing recorded").isEmpty();
    assertThat(events.subscribe(0).next(100)).as("nothing published").isNull();
    // the limit itself is accepted
    assertThat(vms.create(sized(32.0, null), false).vm().request().cpus()).isEqualTo(32.0);
  }

  @Test
  void stopEscalatesToKillAfterTheTimeout() throws Exception {
    vms.create(
        sh("trap '' TERM; echo ready; while :; do sleep 0.1; done").withName("stubborn"), false);
    waitForOutput("stubborn", "ready");
    long t0 = System.nanoTime();
    VmRecord r = vms.stop("stubborn", null, 1);
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isGreaterThanOrEqualTo(Duration.ofMillis(900));
    assertThat(r.state()).isEqualTo(VmState.EXITED);
    assertThat(r.exit().code()).isEqualTo(137);
    assertThat(r.exit().signal()).isEqualTo("SIGKILL");

    vms.create(sh("echo ready; exec sleep 100").withName("polite"), false);
    waitForOutput("polite", "ready");
    r = vms.stop("polite", null, 10);
    assertThat(r.exit().code()).isEqualTo(143);
    assertThat(r.exit().signal()).isEqualTo("SIGTERM");
  }

  @Test
  void removeRefusesRunningVmsUnlessForced() throws Exception {
    vms.create(sh("exec sleep 100").withName("busy"), false);
    assertThatThrownBy(() -> vms.remove("busy", false))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("is running");
    assertThatThrownBy(() -> vms.kill("busy", "SIGBOGUS")).hasMessageContaining("invalid signal");
    vms.remove("busy", true);
    assertThat(vms.list(true)).isEmpty();
    assertThatThrownBy(() -> vms.kill("busy", null)).hasMessageContaining("no such VM");
  }

  @Test
  void autoRemoveWaitsForAttachedReadersThenRemoves() throws Exception {
    VmRecord r = vms.create(sh("echo bye").withAutoRemove(true), true).vm();
    List<String> out = new ArrayList<>();
    ExitRecord e =
        vms.logs(
            r,
            LogQuery.FOLLOW_ALL,
            rec -> out.add(new String(rec.payload(), StandardCharsets.UTF_8)));
    assertThat(e.code()).isZero();
    assertThat(String.join("", out)).isEqualTo("bye\n");
    assertThat(vms.list(true)).as("still there while pinned").hasSize(1);
    vms.unpin(r.id());
    assertThat(vms.list(true)).isEmpty();

    // unpinned: gone on its own
    vms.create(sh("true").withAutoRemove(true).withName("gone"), false);
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!vms.list(true).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(vms.list(true)).isEmpty();
  }

  @Test
  void reconcileReadoptsRunningVmsAndMarksVanishedOnes() throws Exception {
    vms.create(sh("echo 1; exec sleep 100").withName("survivor"), false);
    vms.create(sh("exec sleep 100").withName("lost"), false);
    // a "restart": the same backend (VMMs run detached) forgets "lost", then a new service
    ProcessVmBackend same = backend;
    VmRecord lost = vms.resolve("lost");
    same.adopt(lost.id()); // still known here
    VmService restarted = service(db, new ForgetfulBackend(same, lost.id()));
    List<String> report = restarted.reconcile();
    assertThat(report).anyMatch(l -> l.contains("re-adopted running VM survivor"));
    assertThat(report).anyMatch(l -> l.contains("VM lost vanished"));
    VmRecord l = restarted.resolve("lost");
    assertThat(l.state()).isEqualTo(VmState.EXITED);
    assertThat(l.exit().reason()).contains("gone when the daemon restarted");
    // the re-adopted VM is fully managed: stop works and its exit is recorded
    VmRecord s = restarted.stop("survivor", "SIGKILL", 5);
    assertThat(s.state()).isEqualTo(VmState.EXITED);
    assertThat(s.exit().code()).isEqualTo(137);
  }

  @Test
  void logsHonourTailSinceAndUntil() throws Exception {
    vms.create(sh("for i in 1 2 3; do echo $i; sleep 0.2; done").withName("seq"), false);
    vms.await("seq");
    List<Frame> all = new ArrayList<>();
    vms.logs("seq", LogQuery.ALL, all::add);
    assertThat(all).hasSize(3);
    List<String> tail = new ArrayList<>();
    vms.logs("seq", new LogQuery(2, null, null, false), r -> tail.add(text(r)));
    assertThat(tail).containsExactly("2\n", "3\n");
    Instant second = all.get(1).time();
    List<String> since = new ArrayList<>();
    vms.logs("seq", new LogQuery(-1, second, null, false), r -> since.add(text(r)));
    assertThat(since).containsExactly("2\n", "3\n");
    List<String> until = new ArrayList<>();
    vms.logs("seq", new LogQuery(-1, null, second, false), r -> until.add(text(r)));
    assertThat(until).containsExactly("1\n");
  }

  static String text(Frame r) {
    return r.text();
  }

  void waitForOutput(String vm, String text) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      StringBuilder sb = new StringBuilder();
      vms.logs(vm, LogQuery.ALL, r -> sb.append(text(r)));
      if (sb.toString().contains(text)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError(vm + " never printed " + text);
  }

  /** A backend that lost one VM while the daemon was down. */
  record ForgetfulBackend(ProcessVmBackend inner, String forgotten) implements VmBackend {
    @Override
    public VmHandle start(LaunchSpec s) {
      return inner.start(s);
    }

    @Override
    public VmHandle startAgain(LaunchSpec s) {
      return inner.startAgain(s);
    }

    @Override
    public Adoption adopt(String id) {
      return id.equals(forgotten) ? new Adoption.Vanished("its VMM is gone") : inner.adopt(id);
    }

    @Override
    public void logs(String id, LogQuery q, FrameSink sink) throws IOException {
      inner.logs(id, q, sink);
    }

    @Override
    public void remove(String id) {
      inner.remove(id);
    }

    @Override
    public String defaultVmm() {
      return inner.defaultVmm();
    }

    @Override
    public boolean kvm() {
      return false;
    }
  }
}
