package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.model.json.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The life cycle on real guests (QEMU TCG, kernel and init from build/): restart policies through
 * kiln's boot on the same state dir, a daemon killed -9 and started again, create/start on the same
 * writable disk, pause/unpause. The VMs have no network (no TAP), and the daemon's network names
 * are its own, so that it touches no other test's devices.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LifecycleGuestTest {
  static final String IMAGE = "busybox:latest";

  @TempDir static Path dir;
  Inferno inferno;

  @BeforeAll
  void start() throws Exception {
    inferno =
        Inferno.startGuests(
            dir,
            "network-table = inferno_e2e_lc\nnetwork-tap-prefix = ilg\n"
                + "network-pool = 10.238.0.0/16\n");
    inferno.loadBusybox(IMAGE);
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.removeAllAndClose();
    }
  }

  private Map<String, Object> inspect(String vm) throws Exception {
    var r = inferno.run("inspect", vm);
    assertThat(r.code()).as(r.toString()).isZero();
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) ((List<Object>) Json.parse(r.out())).getFirst();
    return m;
  }

  private Map<String, Object> until(String vm, Predicate<Map<String, Object>> p, int seconds)
      throws Exception {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    Map<String, Object> m = inspect(vm);
    while (!p.test(m)) {
      assertThat(System.nanoTime()).as("waiting for %s: %s", vm, m).isLessThan(deadline);
      Thread.sleep(500);
      m = inspect(vm);
    }
    return m;
  }

  private static int restarts(Map<String, Object> m) {
    return ((Number) m.get("restartCount")).intValue();
  }

  @Test
  void onFailureTwoRestartsExactlyTwiceWithEveryBootsLogs() throws Exception {
    var r =
        inferno.run(
            "run",
            "-d",
            "--name",
            "flaky",
            "--network",
            "none",
            "--restart",
            "on-failure:2",
            IMAGE,
            "sh",
            "-c",
            "echo boot; exit 3");
    assertThat(r.code()).as(r.toString()).isZero();
    Map<String, Object> m =
        until("flaky", v -> v.get("state").equals("exited") && restarts(v) == 2, 180);
    Thread.sleep(2000); // no third
    m = inspect("flaky");
    assertThat(m.get("state")).isEqualTo("exited");
    assertThat(restarts(m)).isEqualTo(2);
    assertThat(inferno.run("logs", "flaky").out()).isEqualTo("boot\nboot\nboot\n");
  }

  @Test
  void aStartedVmKeepsItsWritableDiskAndStartAttachedShowsThisBoot() throws Exception {
    var c =
        inferno.run(
            "create",
            "--name",
            "disk",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "cat /kept 2>/dev/null; echo boot >> /kept; exit 4");
    assertThat(c.code()).as(c.toString()).isZero();
    var first = inferno.run("start", "-a", "disk");
    assertThat(first.code()).as(first.toString()).isEqualTo(4);
    assertThat(first.out()).isEmpty();
    var second = inferno.run("start", "-a", "disk");
    assertThat(second.code()).as(second.toString()).isEqualTo(4);
    assertThat(second.out()).as("the file the first boot wrote").isEqualTo("boot\n");
    assertThat(inferno.run("wait", "disk").out()).isEqualTo("4\n");
  }

  @Test
  void pauseStopsTheGuestAndUnpauseLetsItGoOn() throws Exception {
    inferno.run(
        "run",
        "-d",
        "--name",
        "tick",
        "--network",
        "none",
        IMAGE,
        "sh",
        "-c",
        "while :; do echo t; sleep 0.2; done");
    until("tick", v -> v.get("state").equals("running"), 60);
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (inferno.run("logs", "tick").out().length() < 4 && System.nanoTime() < deadline) {
      Thread.sleep(300);
    }
    var p = inferno.run("pause", "tick");
    assertThat(p.code()).as(p.toString()).isZero();
    assertThat(inferno.run("ps").out()).containsPattern("Up .* \\(Paused\\)");
    Thread.sleep(1000);
    int frozen = inferno.run("logs", "tick").out().length();
    Thread.sleep(2000);
    assertThat(inferno.run("logs", "tick").out()).as("nothing while paused").hasSize(frozen);
    assertThat(inferno.run("unpause", "tick").code()).isZero();
    deadline = System.nanoTime() + 30_000_000_000L;
    while (inferno.run("logs", "tick").out().length() <= frozen && System.nanoTime() < deadline) {
      Thread.sleep(300);
    }
    assertThat(inferno.run("logs", "tick").out().length()).isGreaterThan(frozen);
    assertThat(inferno.run("rm", "-f", "tick").code()).isZero();
  }

  @Test
  void afterAKillMinusNineAlwaysComesBackAndUnlessStoppedStoppedByHandStaysDown() throws Exception {
    for (String[] vm :
        List.of(new String[] {"alw", "always"}, new String[] {"uns", "unless-stopped"})) {
      var r =
          inferno.run(
              "run",
              "-d",
              "--name",
              vm[0],
              "--network",
              "none",
              "--restart",
              vm[1],
              IMAGE,
              "sh",
              "-c",
              "echo up; exec sleep 1000");
      assertThat(r.code()).as(r.toString()).isZero();
    }
    // "running" means the VMM is up; the guest may not have run the command yet, and a stop then
    // ends the boot before its "up" (one CI run did exactly that)
    untilLogs("alw", "up\n");
    untilLogs("uns", "up\n");
    // both stopped by hand: neither restarts now
    assertThat(inferno.run("stop", "-t", "2", "alw", "uns").code()).isZero();
    Thread.sleep(1500);
    assertThat(inspect("alw").get("state")).isEqualTo("exited");
    // the daemon dies hard and starts again: always comes back, unless-stopped stays down
    inferno.killDaemon();
    inferno.startDaemon();
    until("alw", v -> v.get("state").equals("running"), 120);
    Thread.sleep(1500);
    assertThat(inspect("uns").get("state")).isEqualTo("exited");
    untilLogs("alw", "up\nup\n");
  }

  /** Waits up to 120 s for a VM's whole log to be {@code expected}, then asserts it. */
  private void untilLogs(String vm, String expected) throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (!inferno.run("logs", vm).out().equals(expected) && System.nanoTime() < deadline) {
      Thread.sleep(500);
    }
    assertThat(inferno.run("logs", vm).out()).as("the logs of %s", vm).isEqualTo(expected);
  }
}
