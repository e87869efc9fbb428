package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker stats} and {@code docker top} with a real guest (kiln, QEMU TCG, the real kernel
 * and init) through both docker CLIs: the figures the CLIs compute from the counters, a stream of
 * readings, the guest's processes, and a container that does not run. One VM for the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerStatsGuestTest {
  static final String IMAGE = "busybox:latest";
  static final String FIGURES =
      "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|" + "{{.BlockIO}}|{{.PIDs}}";
  static final String PERCENT = "\\d+\\.\\d\\d%";
  static final String SIZE = "\\d+(\\.\\d+)?[kMG]?i?B";

  @TempDir static Path dir;
  Inferno inferno;

  @BeforeAll
  void start() throws Exception {
    inferno =
        Inferno.startGuests(
            dir,
            "network-table = inferno_dk_st\nnetwork-tap-prefix = ixs\nnetwork-pool = 10.246.0.0/16\n");
    inferno.loadBusybox(IMAGE);
    // one networked VM that sends a few packets to its gateway (NET I/O), then sleeps
    var r =
        inferno.run(
            "run",
            "-d",
            "--name",
            "st",
            "-m",
            "256m",
            IMAGE,
            "sh",
            "-c",
            "ping -c 2 -W 1 $(ip route | awk '/default/ {print $3}'); echo pinged; exec sleep 900");
    assertThat(r.code()).as(r.toString()).isZero();
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (!inferno.run("logs", "st").out().contains("pinged")) {
      assertThat(System.nanoTime()).as("st never pinged").isLessThan(deadline);
      Thread.sleep(300);
    }
    // a container that never ran: no VM boots for it
    var c = inferno.docker(Inferno.DEBIAN_DOCKER, "create", "--name", "idle", IMAGE, "true");
    assertThat(c.code()).as(c.toString()).isZero();
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.removeAllAndClose();
    }
  }

  @Test
  void statsNoStreamShowsTheFiguresTheClisComputeFromTheCounters() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      var r = inferno.docker(cli, "stats", "--no-stream", "--format", FIGURES, "st");
      assertThat(r.code()).as(cli + "\n" + r).isZero();
      List<String> f = List.of(r.out().strip().split("\\|"));
      assertThat(f).as(cli + "\n" + r).hasSize(7);
      assertThat(f.get(0)).as(cli + "\n" + r).isEqualTo("st");
      assertThat(f.get(1)).as(cli + "\n" + r).matches(PERCENT);
      // MEM USAGE / LIMIT: the guest's usage of the VM's memory
      assertThat(f.get(2)).as(cli + "\n" + r).matches(SIZE + " / 256MiB").doesNotStartWith("0B");
      assertThat(f.get(3)).as(cli + "\n" + r).matches(PERCENT).isNotEqualTo("0.00%");
      // NET I/O: the pings went out through eth0
      assertThat(f.get(4)).as(cli + "\n" + r).matches(SIZE + " / " + SIZE).isNotEqualTo("0B / 0B");
      assertThat(f.get(5)).as(cli + "\n" + r).matches(SIZE + " / " + SIZE);
      assertThat(Integer.parseInt(f.get(6))).as(cli + "\n" + r).isPositive();

      var table = inferno.docker(cli, "stats", "--no-stream", "st");
      assertThat(table.code()).as(cli + "\n" + table).isZero();
      assertThat(table.out())
          .as(cli + "\n" + table)
          .contains("MEM USAGE / LIMIT", "NET I/O", "BLOCK I/O", "PIDS")
          .containsPattern("\\bst\\s+" + PERCENT);

      var missing = inferno.docker(cli, "stats", "--no-stream", "nosuch");
      assertThat(missing.code()).as(cli + "\n" + missing).isEqualTo(1);
      assertThat(missing.err()).as(cli + "\n" + missing).contains("No such container: nosuch");
    }
  }

  @Test
  void statsStreamsAReadingPerSecondUntilKilled() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      Process p = inferno.spawnDocker(cli, "stats", "--format", "{{.Name}} {{.CPUPerc}}", "st");
      // its own thread: the common pool (one thread on two cores) serves Inferno.finish's readers;
      // it counts the readings as they come, so the test waits for two, not for a fixed time
      CountDownLatch two = new CountDownLatch(2);
      StringBuilder out = new StringBuilder();
      Thread reader =
          Thread.ofVirtual()
              .start(() -> {
                try (var lines =
                    new BufferedReader(
                        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String l = lines.readLine(); l != null; l = lines.readLine()) {
                    synchronized (out) {
                      out.append(l).append('\n');
                    }
                    // docker stats redraws with ANSI escapes before each reading
                    if (l.replaceAll("\u001b\\[[0-9;]*[A-Za-z]", "")
                        .strip()
                        .matches("st " + PERCENT)) {
                      two.countDown();
                    }
                  }
                } catch (IOException e) {
                  // the kill below closes the pipe
                }
              });
      // TCG: the first reading waits for two samples; then one a second
      boolean got = two.await(90, TimeUnit.SECONDS);
      // SIGKILL through the handle: docker 28 does not end on SIGTERM, and Process.destroy*
      // would close the pipe being read
      p.toHandle().destroyForcibly();
      assertThat(p.waitFor(20, TimeUnit.SECONDS)).as(cli + " stats did not end").isTrue();
      reader.join(Duration.ofSeconds(20));
      assertThat(got).as(cli + " gave fewer than two readings:\n" + out).isTrue();
    }
  }

  @Test
  void topListsTheGuestsProcessesAsPsEf() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      var r = inferno.docker(cli, "top", "st");
      assertThat(r.code()).as(cli + "\n" + r).isZero();
      List<String> lines = r.out().lines().toList();
      assertThat(lines.getFirst().split("\\s+"))
          .as(cli + "\n" + r)
          .containsExactly("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD");
      assertThat(lines).as(cli + "\n" + r).anyMatch(l -> l.matches("root\\s+1\\s+0\\s.*"));
      assertThat(lines).as(cli + "\n" + r).anyMatch(l -> l.endsWith("sleep 900"));

      var ef = inferno.docker(cli, "top", "st", "-ef");
      assertThat(ef.code()).as(cli + "\n" + ef).isZero();
      assertThat(ef.out()).as(cli + "\n" + ef).contains("sleep 900");

      var aux = inferno.docker(cli, "top", "st", "aux");
      assertThat(aux.code()).as(cli + "\n" + aux).isEqualTo(1);
      assertThat(aux.err()).as(cli + "\n" + aux).contains("ps_args \"aux\" is not supported");
    }
  }

  @Test
  void aContainerThatDoesNotRunReadsZerosAndHasNoTop() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      var r = inferno.docker(cli, "stats", "--no-stream", "--format", FIGURES, "idle");
      assertThat(r.code()).as(cli + "\n" + r).isZero();
      // dockerd's empty stats of a stopped container, as the CLIs print them
      assertThat(r.out().strip())
          .as(cli + "\n" + r)
          .isEqualTo("idle|0.00%|0B / 0B|0.00%|0B / 0B|0B / 0B|0");

      var top = inferno.docker(cli, "top", "idle");
      assertThat(top.code()).as(cli + "\n" + top).isEqualTo(1);
      assertThat(top.err()).as(cli + "\n" + top).contains("is not running");
    }
  }
}
