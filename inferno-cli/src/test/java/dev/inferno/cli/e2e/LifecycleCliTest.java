package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The life cycle verbs through the real bin/inferno against a daemon with the process backend:
 * create, start [-a], wait, restart, pause/unpause (ps), rename, events, --restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LifecycleCliTest {
  @TempDir static Path dir;
  Inferno inferno;

  @BeforeAll
  void start() throws Exception {
    inferno = Inferno.start(dir);
  }

  @AfterAll
  void stop() throws Exception {
    inferno.close();
  }

  @Test
  void createThenStartAttachedWaitAndStartAgain() throws Exception {
    var c =
        inferno.run(
            "create",
            "--name",
            "c1",
            "--network",
            "none",
            "busybox",
            "sh",
            "-c",
            "echo hi; exit 7");
    assertThat(c.code()).as(c.toString()).isZero();
    assertThat(c.out().strip()).matches("[0-9a-f]{16}");
    assertThat(inferno.run("ps", "-a").out()).contains("Created").contains("c1");
    var a = inferno.run("start", "-a", "c1");
    assertThat(a.code()).as(a.toString()).isEqualTo(7);
    assertThat(a.out()).isEqualTo("hi\n");
    var w = inferno.run("wait", "c1");
    assertThat(w.out()).isEqualTo("7\n");
    // again on the same VM: both boots' output in logs
    var s = inferno.run("start", "c1");
    assertThat(s.out()).isEqualTo("c1\n");
    inferno.run("wait", "--condition", "not-running", "c1");
    assertThat(inferno.run("start", "-a", "c1").out())
        .as("this boot's output only")
        .isEqualTo("hi\n");
    assertThat(inferno.run("logs", "c1").out()).isEqualTo("hi\nhi\nhi\n");
    var bad = inferno.run("wait", "--condition", "soon", "c1");
    assertThat(bad.code()).isEqualTo(125);
  }

  @Test
  void pauseShowsInPsAndRestartBootsAgain() throws Exception {
    String id =
        inferno
            .run("run", "-d", "--name", "p1", "--network", "none", "busybox", "sleep", "100")
            .out()
            .strip();
    var p = inferno.run("pause", "p1");
    assertThat(p.code()).as(p.toString()).isZero();
    assertThat(inferno.run("ps").out()).containsPattern("Up .* \\(Paused\\)");
    var again = inferno.run("pause", "p1");
    assertThat(again.code()).isEqualTo(1);
    assertThat(again.err()).isEqualTo("inferno: VM p1 is already paused\n");
    assertThat(inferno.run("unpause", "p1").code()).isZero();
    assertThat(inferno.run("ps").out()).doesNotContain("Paused");
    var r = inferno.run("restart", "-t", "1", "p1");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(inferno.run("ps").out()).contains("p1").contains("Up ");
    assertThat(inferno.run("rename", "p1", "p2").code()).isZero();
    assertThat(inferno.run("ps").out()).contains("p2").doesNotContain("p1");
    var taken = inferno.run("rename", "p2", "p2");
    assertThat(taken.code()).isEqualTo(1);
    var ev =
        inferno.run(
            "events",
            "--since",
            "1h",
            "--until",
            "0s",
            "--filter",
            "vm=" + id,
            "-f",
            "type=paused");
    assertThat(ev.code()).as(ev.toString()).isZero();
    assertThat(ev.out().lines().toList())
        .singleElement()
        .matches(l -> l.matches("\\S+ vm paused " + id + " \\(name=p1\\)"), "one paused line");
    inferno.run("rm", "-f", "p2");
  }

  @Test
  void updatePrintsEachVmAndReportsEachFailure() throws Exception {
    for (String name : new String[] {"u1", "u2"}) {
      var r =
          inferno.run("run", "-d", "--name", name, "--network", "none", "busybox", "sleep", "100");
      assertThat(r.code()).as(r.toString()).isZero();
    }
    var u = inferno.run("update", "--restart", "always", "--memory", "512m", "u1", "nope", "u2");
    assertThat(u.code()).as(u.toString()).isEqualTo(1);
    assertThat(u.out()).isEqualTo("u1\nu2\n");
    assertThat(u.err().lines().toList()).first().asString().startsWith("inferno: no such VM: nope");
    assertThat(u.err().lines().skip(1).toList())
        .containsExactly(
            "WARNING: VM u1 is running: its new size (1 vCPU, 512 MiB) takes effect when it boots"
                + " next (a restart, or a stop and start): a running microVM cannot be resized",
            "WARNING: VM u2 is running: its new size (1 vCPU, 512 MiB) takes effect when it boots"
                + " next (a restart, or a stop and start): a running microVM cannot be resized");
    String inspect = inferno.run("inspect", "u1").out();
    assertThat(inspect).containsPattern("\"restart\"\\s*:\\s*\"always\"");
    assertThat(inspect).containsPattern("\"memoryBytes\"\\s*:\\s*536870912");
    // the policy alone: no size, no warning
    var p = inferno.run("update", "--restart", "on-failure:2", "u2");
    assertThat(p.code()).as(p.toString()).isZero();
    assertThat(p.out()).isEqualTo("u2\n");
    assertThat(p.err()).isEmpty();

    var none = inferno.run("update", "u1");
    assertThat(none.code()).isEqualTo(125);
    assertThat(none.err()).contains("nothing to update");
    var size = inferno.run("update", "--memory", "lots", "u1");
    assertThat(size.code()).isEqualTo(125);
    assertThat(size.err()).contains("invalid size \"lots\"");
    var bad = inferno.run("update", "--restart", "sometimes", "u1");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).contains("no, on-failure[:N], always or unless-stopped");
    var rm =
        inferno.run(
            "run", "-d", "--rm", "--name", "r1", "--network", "none", "busybox", "sleep", "100");
    assertThat(rm.code()).as(rm.toString()).isZero();
    var refused = inferno.run("update", "--restart", "always", "r1");
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err()).contains("was run with --rm");
    inferno.run("rm", "-f", "u1", "u2", "r1");
  }

  @Test
  void restartPolicyShowsInPsAndRefusesRm() throws Exception {
    var rm = inferno.run("run", "--rm", "--restart", "always", "busybox", "true");
    assertThat(rm.code()).isEqualTo(125);
    assertThat(rm.err()).contains("--restart always and --rm");
    var bad = inferno.run("run", "-d", "--restart", "sometimes", "busybox", "true");
    assertThat(bad.code()).isEqualTo(125);
    assertThat(bad.err()).contains("no, on-failure[:N], always or unless-stopped");
    inferno.run(
        "run",
        "-d",
        "--name",
        "flap",
        "--network",
        "none",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "exit 2");
    long deadline = System.nanoTime() + 20_000_000_000L;
    String ps = "";
    while (System.nanoTime() < deadline && !ps.contains("Restarting (2)")) {
      ps = inferno.run("ps").out();
    }
    assertThat(ps).contains("Restarting (2)");
    var stop = inferno.run("stop", "flap");
    assertThat(stop.code()).as(stop.toString()).isZero();
    assertThat(inferno.run("ps").out()).doesNotContain("flap");
    var inspect = inferno.run("inspect", "flap");
    assertThat(inspect.out()).containsPattern("\"restartCount\": *[1-9]");
  }
}
