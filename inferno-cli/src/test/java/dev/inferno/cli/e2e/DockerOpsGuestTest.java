package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker pause|unpause|rename|update} with both docker CLIs against one daemon and ONE real
 * guest (kiln, QEMU TCG) printing a counter: paused, ps and inspect say so and its log stops
 * growing; unpaused, it grows again; renamed, ps and inspect know it by the new name only; updated,
 * inspect shows the policy and size, and the guest has the new memory once it boots again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerOpsGuestTest {
  static final String IMAGE = "busybox";

  @TempDir static Path dir;
  Inferno inferno;
  String id;

  @BeforeAll
  void start() throws Exception {
    inferno =
        Inferno.startGuests(
            dir,
            "network-table = inferno_dk_m\nnetwork-tap-prefix = ixm\nnetwork-pool = 10.247.0.0/16\n");
    inferno.loadBusybox("busybox:latest");
    var run =
        inferno.dockerOk(
            Inferno.DEBIAN_DOCKER,
            "run",
            "-d",
            "--network",
            "none",
            "--name",
            "ticker",
            IMAGE,
            "sh",
            "-c",
            "i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done");
    id = run.out().strip();
    // the guest has booted and prints
    waitForLines("ticker", 1);
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.removeAllAndClose();
    }
  }

  private long lines(String name) throws Exception {
    return inferno.dockerOk(Inferno.DEBIAN_DOCKER, "logs", name).out().lines().count();
  }

  /** Waits (TCG is slow) until the log holds more than {@code n} lines; returns the count. */
  private long waitForLines(String name, long n) throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    long c;
    while ((c = lines(name)) <= n) {
      assertThat(System.nanoTime()).as("log of %s stays at %d lines", name, c).isLessThan(deadline);
      Thread.sleep(500);
    }
    return c;
  }

  @Test
  void pauseFreezesTheGuestAndUnpauseLetsItRunOn() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      assertThat(inferno.dockerOk(cli, "pause", "ticker").out())
          .as(cli.toString())
          .isEqualTo("ticker\n");
      assertThat(inferno.dockerOk(cli, "ps", "--format", "{{.Names}}|{{.State}}|{{.Status}}").out())
          .as(cli.toString())
          .matches("ticker\\|paused\\|Up .+ \\(Paused\\)\n");
      assertThat(
              inferno
                  .dockerOk(cli, "inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "ticker")
                  .out())
          .isEqualTo("paused true\n");
      var again = inferno.docker(cli, "pause", "ticker");
      assertThat(again.code()).as(cli + ": " + again).isEqualTo(1);
      assertThat(again.err())
          .as(cli.toString())
          .contains("Error response from daemon: Container " + id + " is already paused");

      // what was in flight is out after a moment; then nothing more comes
      Thread.sleep(2000);
      long frozen = lines("ticker");
      Thread.sleep(4000);
      assertThat(lines("ticker")).as(cli + ": the paused guest printed").isEqualTo(frozen);

      assertThat(inferno.dockerOk(cli, "unpause", "ticker").out()).isEqualTo("ticker\n");
      assertThat(inferno.dockerOk(cli, "ps", "--format", "{{.State}}|{{.Status}}").out())
          .as(cli.toString())
          .matches("running\\|Up [^(]+\n");
      waitForLines("ticker", frozen);
      var notPaused = inferno.docker(cli, "unpause", "ticker");
      assertThat(notPaused.code()).as(cli + ": " + notPaused).isEqualTo(1);
      assertThat(notPaused.err()).contains("Container " + id + " is not paused");
    }
  }

  /** The guest's MemTotal in KiB. */
  private long memTotalKib() throws Exception {
    String meminfo =
        inferno.dockerOk(Inferno.DEBIAN_DOCKER, "exec", id, "cat", "/proc/meminfo").out();
    return meminfo
        .lines()
        .filter(l -> l.startsWith("MemTotal:"))
        .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void updateRecordsThePolicyAndTheSizeForTheNextBoot() throws Exception {
    long before = memTotalKib();
    assertThat(before).as("the default 256 MiB").isLessThan(256L << 10);
    for (Path cli : Inferno.dockerClis()) {
      var always = inferno.dockerOk(cli, "update", "--restart=always", id);
      assertThat(always.out()).as(cli.toString()).isEqualTo(id + "\n");
      assertThat(
              inferno
                  .dockerOk(
                      cli,
                      "inspect",
                      "-f",
                      "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}",
                      id)
                  .out())
          .isEqualTo("always 0\n");
      inferno.dockerOk(cli, "update", "--restart=on-failure:3", id);
      assertThat(
              inferno
                  .dockerOk(cli, "inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", id)
                  .out())
          .isEqualTo("on-failure\n");
      inferno.dockerOk(cli, "update", "--restart=no", id);

      // running: recorded for the next boot, and the CLI prints the daemon's warning
      var memory = inferno.dockerOk(cli, "update", "--memory", "384m", id);
      // both print the container as given, then the warnings, on stdout
      assertThat(memory.out().lines().toList())
          .as(cli + ": " + memory)
          .satisfiesExactly(
              l -> assertThat(l).isEqualTo(id),
              l ->
                  assertThat(l)
                      .contains(
                          "is running: its new size (1 vCPU, 384 MiB) takes effect when it boots"
                              + " next"));
      assertThat(inferno.dockerOk(cli, "inspect", "-f", "{{.HostConfig.Memory}}", id).out())
          .isEqualTo((384L << 20) + "\n");

      var shares = inferno.docker(cli, "update", "--cpu-shares", "512", id);
      assertThat(shares.code()).as(cli + ": " + shares).isEqualTo(1);
      assertThat(shares.err()).contains("CpuShares is not supported");
      var none = inferno.docker(cli, "update", id);
      assertThat(none.code()).as(cli + ": the CLI's own refusal").isNotZero();
    }
    assertThat(memTotalKib()).as("this boot keeps its size").isEqualTo(before);
    // the next boot has it: a restart of the same guest
    inferno.dockerOk(Inferno.DEBIAN_DOCKER, "restart", "-t", "1", id);
    waitForLines(id, lines(id));
    long after = memTotalKib();
    assertThat(after)
        .as("MemTotal after the restart")
        .isGreaterThan(256L << 10)
        .isLessThan(384L << 10);
  }

  @Test
  void renameChangesTheNameEverywhere() throws Exception {
    String current = "ticker";
    for (Path cli : Inferno.dockerClis()) {
      String renamed = "ticker-" + (cli.equals(Inferno.DEBIAN_DOCKER) ? "deb" : "new");
      var same = inferno.docker(cli, "rename", current, current);
      assertThat(same.code()).as(cli + ": " + same).isEqualTo(1);
      assertThat(same.err())
          .contains("Renaming a container with the same name as its current name");
      var bad = inferno.docker(cli, "rename", current, "bad name");
      assertThat(bad.code()).as(cli + ": " + bad).isEqualTo(1);
      assertThat(bad.err()).contains("Invalid container name (/bad name)");

      inferno.dockerOk(cli, "rename", current, renamed);
      assertThat(inferno.dockerOk(cli, "ps", "--format", "{{.Names}} {{.ID}}").out())
          .isEqualTo(renamed + " " + id.substring(0, 12) + "\n");
      assertThat(inferno.dockerOk(cli, "inspect", "-f", "{{.Name}} {{.Id}}", renamed).out())
          .isEqualTo("/" + renamed + " " + id + "\n");
      var old = inferno.docker(cli, "inspect", current);
      assertThat(old.code()).as(cli + ": " + old).isEqualTo(1);
      assertThat(old.err()).containsIgnoringCase("No such object: " + current);
      // still the same running guest, its output under the new name
      assertThat(inferno.dockerOk(cli, "logs", renamed).out()).contains("tick 1\n");
      current = renamed;
    }
    // the name is free again for the next one to take
    inferno.dockerOk(Inferno.DEBIAN_DOCKER, "rename", current, "ticker");
  }
}
