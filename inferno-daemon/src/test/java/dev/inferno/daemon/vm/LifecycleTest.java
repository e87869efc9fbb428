package dev.inferno.daemon.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.daemon.api.ApiJson;
import dev.inferno.daemon.backend.LogQuery;
import dev.inferno.daemon.network.VmNetworks;
import dev.inferno.daemon.store.Database;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.store.VmStore;
import dev.inferno.daemon.testing.MemoryImageBackend;
import dev.inferno.daemon.testing.ProcessVmBackend;
import dev.inferno.daemon.testing.TestNetworks;
import dev.inferno.model.Event;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.RunRequest;
import dev.inferno.model.UpdateRequest;
import dev.inferno.model.VmState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The life cycle past a single run: restart policies with the process backend (whose VMs exit at
 * once when told), create/start, restart, pause, rename, wait conditions, and what survives a
 * daemon restart (a second service on the same database).
 */
class LifecycleTest {
  @TempDir Path dir;
  Database db;
  ProcessVmBackend backend = new ProcessVmBackend();
  MemoryImageBackend images = new MemoryImageBackend().publish("busybox", List.of("sh"));
  EventBus events = new EventBus();
  List<VmService> services = new ArrayList<>();
  VmService vms;

  @BeforeEach
  void setUp() throws Exception {
    db = Database.open(dir.resolve("db"));
    vms = service(backend);
  }

  VmService service(ProcessVmBackend b) throws Exception {
    VmStore store = new VmStore(db, ApiJson.mapper());
    VmService s =
        new VmService(
            store,
            images,
            b,
            events,
            new Defaults(1, 256L << 20, "auto", 2),
            new VmNetworks(store, TestNetworks.settings()));
    services.add(s);
    return s;
  }

  @AfterEach
  void tearDown() throws Exception {
    for (VmService s : services) {
      s.close();
    }
    backend.killAll();
    vms.networks().close();
    db.close();
  }

  /** A VM on no network (these tests need no TAP): sh -c script, with a restart policy. */
  static RunRequest sh(String name, String restart, String script) {
    return RunRequest.builder("busybox")
        .name(name)
        .cmd(List.of("sh", "-c", script))
        .network("none")
        .restart(restart)
        .build();
  }

  static void await(String what, BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  String output(String vm) throws Exception {
    StringBuilder sb = new StringBuilder();
    vms.logs(vm, LogQuery.ALL, f -> sb.append(f.text()));
    return sb.toString();
  }

  List<Event> history() throws InterruptedException {
    List<Event> out = new ArrayList<>();
    try (var sub = events.subscribe(0)) {
      for (Event e = sub.next(50); e != null; e = sub.next(50)) {
        out.add(e);
      }
    }
    return out;
  }

  @Test
  void onFailureTwoRestartsExactlyTwiceKeepingEveryBootsOutput() throws Exception {
    vms.restoreNetworks();
    VmRecord r = vms.create(sh("flaky", "on-failure:2", "echo boot; exit 3"), false).vm();
    await(
        "three boots and the end",
        () -> backend.boots(r.id()).size() == 3 && vms.resolve("flaky").state() == VmState.EXITED);
    Thread.sleep(600); // a third restart would have come by now (delay 400 ms)
    assertThat(backend.boots(r.id())).hasSize(3);
    VmRecord end = vms.resolve("flaky");
    assertThat(end.state()).isEqualTo(VmState.EXITED);
    assertThat(end.exit().code()).isEqualTo(3);
    assertThat(end.restart().count()).isEqualTo(2);
    assertThat(output("flaky")).isEqualTo("boot\nboot\nboot\n");
    assertThat(history().stream().filter(e -> e.id().equals(r.id())).map(Event::type))
        .containsExactly(
            "created",
            "started",
            "exited",
            "restarting",
            "started",
            "exited",
            "restarting",
            "started",
            "exited");
  }

  @Test
  void backOffDelaysFollowTheScheduleNeverEarlyAndNeverMuchLate() throws Exception {
    vms.restoreNetworks();
    VmRecord r = vms.create(sh("backoff", "on-failure:4", "exit 1"), false).vm();
    await(
        "five boots",
        () ->
            vms.resolve("backoff").state() == VmState.EXITED && backend.boots(r.id()).size() == 5);
    List<Event> h = history().stream().filter(e -> e.id().equals(r.id())).toList();
    List<Instant> exited =
        h.stream().filter(e -> e.type().equals("exited")).map(Event::time).toList();
    // the backend's boot times: when the daemon asked for the boot (a host process's spawn after
    // that is no part of the delay)
    List<Instant> started = backend.boots(r.id());
    long[] schedule = {100, 200, 400, 800};
    for (int i = 0; i < schedule.length; i++) {
      long gap = Duration.between(exited.get(i), started.get(i + 1)).toMillis();
      // 20 % either way, plus 100 ms late for the timer's wake-up and the store update on a busy
      // machine (absolute, not proportional: 20 % of the first 100 ms step is only 20 ms)
      assertThat(gap)
          .as("delay before restart %d", i + 1)
          .isBetween(schedule[i] * 8 / 10, schedule[i] * 12 / 10 + 100);
    }
  }

  @Test
  void stopAndRemoveCancelAPendingRestart() throws Exception {
    vms.restoreNetworks();
    // a failing VM backs off 100, 200, 400, 800 ms…: catch it waiting for a restart
    VmRecord r = vms.create(sh("waiting", "always", "exit 1"), false).vm();
    await(
        "a long wait",
        () ->
            vms.resolve("waiting").restart().count() >= 4
                && vms.resolve("waiting").state() == VmState.RESTARTING);
    assertThat(vms.list(false)).extracting(VmRecord::name).contains("waiting");
    assertThatThrownBy(() -> vms.remove("waiting", false))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("is restarting");
    VmRecord stopped = vms.stop("waiting", null, 1);
    assertThat(stopped.state()).isEqualTo(VmState.EXITED);
    assertThat(stopped.restart().stoppedByHand()).isTrue();
    int boots = backend.boots(r.id()).size();
    Thread.sleep(2000); // past the longest delay it was waiting for (1.6 s)
    assertThat(backend.boots(r.id())).hasSize(boots);

    VmRecord r2 = vms.create(sh("removed", "always", "exit 1"), false).vm();
    await(
        "a restart pending",
        () ->
            vms.resolve("removed").restart().count() >= 3
                && vms.resolve("removed").state() == VmState.RESTARTING);
    vms.remove("removed", true);
    int boots2 = backend.boots(r2.id()).size();
    Thread.sleep(1000);
    assertThat(backend.boots(r2.id())).hasSize(boots2);
    assertThatThrownBy(() -> vms.resolve("removed")).hasMessageContaining("no such VM");
  }

  @Test
  void stopByHandSuppressesUnlessStoppedAndAlwaysComesBackAtDaemonStart() throws Exception {
    vms.restoreNetworks();
    vms.create(sh("svc-always", "always", "echo up; exec sleep 100"), false);
    vms.create(sh("svc-unless", "unless-stopped", "echo up; exec sleep 100"), false);
    vms.create(sh("svc-running", "unless-stopped", "echo up; exec sleep 100"), false);
    VmRecord a = vms.stop("svc-always", null, 5);
    VmRecord u = vms.stop("svc-unless", null, 5);
    assertThat(a.state()).isEqualTo(VmState.EXITED);
    assertThat(u.state()).isEqualTo(VmState.EXITED);
    Thread.sleep(300);
    assertThat(vms.resolve("svc-always").state())
        .as("a stop by hand holds")
        .isEqualTo(VmState.EXITED);
    // the daemon goes down hard: its VMs die with it (a host reboot), its state stays
    vms.close();
    backend.killAll();
    await("all down", () -> vms.list(true).stream().noneMatch(r -> r.state().live()));
    assertThat(vms.resolve("svc-running").state())
        .as("its restart waits for the next daemon")
        .isEqualTo(VmState.RESTARTING);
    // another daemon on the same database, with a fresh backend
    ProcessVmBackend next = new ProcessVmBackend();
    VmService restarted = service(next);
    try {
      restarted.reconcile();
      restarted.restoreNetworks();
      await("always back", () -> restarted.resolve("svc-always").state() == VmState.RUNNING);
      await(
          "unless-stopped not stopped by hand back",
          () -> restarted.resolve("svc-running").state() == VmState.RUNNING);
      Thread.sleep(300);
      assertThat(restarted.resolve("svc-unless").state()).isEqualTo(VmState.EXITED);
    } finally {
      next.killAll();
    }
  }

  @Test
  void aPendingRestartSurvivesADaemonRestart() throws Exception {
    vms.restoreNetworks();
    VmRecord r = vms.create(sh("pending", "always", "exit 1"), false).vm();
    await(
        "a long wait",
        () ->
            vms.resolve("pending").restart().count() >= 5
                && vms.resolve("pending").state() == VmState.RESTARTING);
    vms.close(); // the daemon stops: its timers go, the record keeps the restart
    VmRecord down = vms.resolve("pending");
    assertThat(down.state()).isEqualTo(VmState.RESTARTING);
    int count = down.restart().count();
    ProcessVmBackend next = new ProcessVmBackend();
    VmService restarted = service(next);
    try {
      restarted.reconcile();
      restarted.restoreNetworks();
      await("restarted by the new daemon", () -> !next.boots(r.id()).isEmpty());
      await("counted on", () -> restarted.resolve("pending").restart().count() > count);
    } finally {
      restarted.close();
      next.killAll();
    }
  }

  @Test
  void restartPolicyIsValidatedAndRefusedWithRm() throws Exception {
    vms.restoreNetworks();
    assertThatThrownBy(() -> vms.create(sh("bad", "sometimes", "true"), false))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("no, on-failure[:N], always or unless-stopped");
    RunRequest rm = sh("rm", "always", "true").toBuilder().autoRemove(true).build();
    assertThatThrownBy(() -> vms.create(rm, false))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("--restart always and --rm");
    assertThat(vms.list(true)).isEmpty();
  }

  /** A script that, on each boot, waits for {@code go} to appear, takes it and exits 3. */
  String onGo(Path go) {
    return "echo boot; while [ ! -e " + go + " ]; do sleep 0.02; done; rm -f " + go + "; exit 3";
  }

  @Test
  void anUpdatedPolicyDecidesTheRunningVmsNextExit() throws Exception {
    vms.restoreNetworks();
    Path go = dir.resolve("go");
    VmRecord r = vms.create(sh("flip", "no", onGo(go)), false).vm();
    VmService.Updated u = vms.update("flip", new UpdateRequest("always", null, null));
    assertThat(u.warnings()).isEmpty();
    assertThat(u.vm().request().restart()).isEqualTo("always");
    assertThat(vms.resolve("flip").state()).as("still the same run").isEqualTo(VmState.RUNNING);
    java.nio.file.Files.createFile(go);
    await(
        "restarted by the new policy",
        () -> backend.boots(r.id()).size() == 2 && vms.resolve("flip").state() == VmState.RUNNING);
    assertThat(vms.resolve("flip").restart().count()).isEqualTo(1);

    vms.update("flip", new UpdateRequest("no", null, null));
    java.nio.file.Files.createFile(go);
    await("exited for good", () -> vms.resolve("flip").state() == VmState.EXITED);
    Thread.sleep(300); // a restart would have come after 100 ms
    assertThat(backend.boots(r.id())).hasSize(2);
    assertThat(vms.resolve("flip").exit().code()).isEqualTo(3);
    assertThat(
            history().stream()
                .filter(e -> e.id().equals(r.id()) && e.type().equals("updated"))
                .count())
        .isEqualTo(2);
  }

  @Test
  void anUpdatedPolicyIsKeptAcrossADaemonRestart() throws Exception {
    vms.restoreNetworks();
    vms.create(sh("now-always", "no", "exec sleep 100"), false);
    vms.create(sh("now-no", "always", "exec sleep 100"), false);
    vms.stop("now-always", null, 5);
    vms.stop("now-no", null, 5);
    vms.update("now-always", new UpdateRequest("always", null, null));
    vms.update("now-no", new UpdateRequest("no", null, null));
    vms.close();
    ProcessVmBackend next = new ProcessVmBackend();
    VmService restarted = service(next);
    try {
      restarted.reconcile();
      restarted.restoreNetworks();
      // always comes back at daemon start even when stopped by hand: only if the update was kept
      await("always back", () -> restarted.resolve("now-always").state() == VmState.RUNNING);
      Thread.sleep(300);
      assertThat(restarted.resolve("now-no").state()).isEqualTo(VmState.EXITED);
      assertThat(restarted.resolve("now-no").request().restart()).isEqualTo("no");
    } finally {
      restarted.close();
      next.killAll();
    }
  }

  @Test
  void updateRefusesWhatCreateRefusesAndResizesAtTheNextBoot() throws Exception {
    vms.restoreNetworks();
    vms.create(sh("sized", null, "exec sleep 100"), false);
    assertThatThrownBy(() -> vms.update("sized", new UpdateRequest("sometimes", null, null)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("no, on-failure[:N], always or unless-stopped");
    assertThatThrownBy(() -> vms.update("sized", new UpdateRequest(null, 1L << 20, null)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("at least");
    assertThatThrownBy(() -> vms.update("sized", new UpdateRequest(null, null, 0.0)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400));
    assertThatThrownBy(() -> vms.update("sized", new UpdateRequest(null, null, 99.0)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("vcpus must be");
    assertThatThrownBy(() -> vms.update("nope", new UpdateRequest("always", null, null)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(404));
    assertThat(vms.resolve("sized").request().memoryBytes())
        .as("refused: unchanged")
        .isEqualTo(256L << 20);

    // running: recorded for the next boot, and the answer says so
    VmService.Updated u = vms.update("sized", new UpdateRequest(null, 512L << 20, 1.5));
    assertThat(u.warnings())
        .anySatisfy(w -> assertThat(w).contains("rounded up to 2"))
        .anySatisfy(w -> assertThat(w).contains("2 vCPUs, 512 MiB").contains("next"));
    assertThat(backend.lastSpec().memoryBytes())
        .as("this boot keeps its size")
        .isEqualTo(256L << 20);
    vms.restart("sized", 1);
    assertThat(backend.lastSpec().memoryBytes()).isEqualTo(512L << 20);
    assertThat(backend.lastSpec().cpus()).isEqualTo(2);

    // stopped: no warning, the next start takes it
    vms.stop("sized", null, 1);
    assertThat(vms.update("sized", new UpdateRequest(null, 384L << 20, null)).warnings()).isEmpty();
    vms.start("sized");
    assertThat(backend.lastSpec().memoryBytes()).isEqualTo(384L << 20);
    assertThat(backend.lastSpec().cpus()).as("left out: unchanged").isEqualTo(2);

    // --rm: a restart policy cannot be given to it (409, as dockerd), no can
    vms.create(sh("gone", null, "exec sleep 100").toBuilder().autoRemove(true).build(), false);
    assertThatThrownBy(() -> vms.update("gone", new UpdateRequest("on-failure:2", null, null)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("--rm");
    assertThat(vms.update("gone", new UpdateRequest("no", null, null)).vm().request().restart())
        .isEqualTo("no");
    vms.remove("gone", true);
  }

  @Test
  void createThenStartAndStartAgainOnTheSameVm() throws Exception {
    vms.restoreNetworks();
    VmRecord c = vms.create(sh("later", null, "echo ran; exit 5"), false, false).vm();
    assertThat(c.state()).isEqualTo(VmState.CREATED);
    assertThat(backend.boots(c.id())).isEmpty();
    assertThat(vms.await("later", "not-running").code()).as("created: at once, 0").isZero();
    CompletableFuture<ExitRecord> next =
        CompletableFuture.supplyAsync(() -> {
          try {
            return vms.await("later", "next-exit");
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
    Thread.sleep(100);
    assertThat(next).isNotDone();
    assertThat(vms.start("later")).isPresent();
    assertThat(next.get().code()).isEqualTo(5);
    await("exited", () -> vms.resolve("later").state() == VmState.EXITED);
    assertThat(vms.await("later", "not-running").code()).isEqualTo(5);
    assertThat(vms.start("later")).isPresent();
    await(
        "exited again",
        () -> backend.boots(c.id()).size() == 2 && vms.resolve("later").state() == VmState.EXITED);
    assertThat(output("later")).isEqualTo("ran\nran\n");
    assertThat(vms.resolve("later").restart().count())
        .as("starts by hand are no restarts")
        .isZero();

    vms.create(sh("up", null, "exec sleep 100"), false);
    assertThat(vms.start("up")).as("already running: 304").isEmpty();
    assertThatThrownBy(() -> vms.await("up", "sometime"))
        .hasMessageContaining("not-running, next-exit or removed");
  }

  @Test
  void restartStopsAndStartsAgainKeepingAnRmVm() throws Exception {
    vms.restoreNetworks();
    VmRecord r =
        vms.create(
                RunRequest.builder("busybox")
                    .name("again")
                    .cmd(List.of("sh", "-c", "echo hi; exec sleep 100"))
                    .network("none")
                    .autoRemove(true)
                    .build(),
                false)
            .vm();
    VmRecord up = vms.restart("again", 1);
    assertThat(up.state()).isEqualTo(VmState.RUNNING);
    assertThat(backend.boots(r.id())).hasSize(2);
    assertThat(up.restart().count()).isZero();
    assertThat(history().stream().map(Event::type)).contains("restarted");
    vms.remove("again", true);
  }

  @Test
  void pauseFreezesTheVmAndUnpauseLetsItGoOn() throws Exception {
    vms.restoreNetworks();
    vms.create(sh("ticker", null, "while :; do echo t; sleep 0.05; done"), false);
    await(
        "ticking",
        () -> {
          try {
            return output("ticker").length() > 4;
          } catch (Exception e) {
            return false;
          }
        });
    VmRecord p = vms.pause("ticker");
    assertThat(p.state()).isEqualTo(VmState.PAUSED);
    assertThat(vms.resolve("ticker").state()).isEqualTo(VmState.PAUSED);
    assertThat(vms.list(false)).extracting(VmRecord::name).contains("ticker");
    assertThatThrownBy(() -> vms.pause("ticker"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("already paused");
    Thread.sleep(100);
    int frozen = output("ticker").length();
    Thread.sleep(400);
    assertThat(output("ticker")).as("no output while paused").hasSize(frozen);
    vms.unpause("ticker");
    assertThat(vms.resolve("ticker").state()).isEqualTo(VmState.RUNNING);
    await(
        "ticking again",
        () -> {
          try {
            return output("ticker").length() > frozen;
          } catch (Exception e) {
            return false;
          }
        });
    assertThatThrownBy(() -> vms.unpause("ticker"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("is not paused");
    // a paused VM still stops
    vms.pause("ticker");
    VmRecord s = vms.stop("ticker", null, 5);
    assertThat(s.state()).isEqualTo(VmState.EXITED);
    assertThatThrownBy(() -> vms.pause("ticker"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("is not running");
    assertThat(history().stream().map(Event::type)).containsSubsequence("paused", "unpaused");
  }

  @Test
  void renameChecksTheNameAndKeepsTheVm() throws Exception {
    vms.restoreNetworks();
    VmRecord r = vms.create(sh("old", null, "exec sleep 100"), false).vm();
    vms.create(sh("taken", null, "true"), false);
    vms.rename("old", "new");
    assertThat(vms.resolve("new").id()).isEqualTo(r.id());
    assertThat(vms.resolve("new").request().name()).isEqualTo("new");
    assertThatThrownBy(() -> vms.resolve("old")).hasMessageContaining("no such VM");
    assertThatThrownBy(() -> vms.rename("new", "taken"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("already in use");
    assertThatThrownBy(() -> vms.rename("new", "-bad"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400));
    assertThatThrownBy(() -> vms.rename("new", "new"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400));
    assertThat(history()).anyMatch(e -> e.type().equals("renamed") && e.name().equals("new"));
  }

  @Test
  void waitRemovedReturnsTheLastExitOnceTheVmIsGone() throws Exception {
    vms.restoreNetworks();
    vms.create(sh("doomed", null, "echo ready; exec sleep 100"), false);
    CompletableFuture<ExitRecord> gone =
        CompletableFuture.supplyAsync(() -> {
          try {
            return vms.await("doomed", "removed");
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
    vms.kill("doomed", "SIGKILL");
    await("exited", () -> vms.resolve("doomed").state() == VmState.EXITED);
    Thread.sleep(100);
    assertThat(gone).as("exited is not removed").isNotDone();
    vms.remove("doomed", false);
    assertThat(gone.get().code()).isEqualTo(137);
  }
}
