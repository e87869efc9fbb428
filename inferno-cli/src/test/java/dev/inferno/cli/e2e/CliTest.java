package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.model.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real bin/inferno against a real daemon subprocess (test doubles from the daemon's test-jar:
 * each VM is a host process, so output, exit codes and signals are real; no guest boots).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliTest {
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
  void attachedRunPassesOutputAndExitCode() throws Exception {
    var r =
        inferno.run(
            "run",
            "--name",
            "att1",
            "busybox",
            "sh",
            "-c",
            "echo to-out; echo to-err >&2; exit 42");
    assertThat(r.code()).as(r.toString()).isEqualTo(42);
    assertThat(r.out()).isEqualTo("to-out\n");
    assertThat(r.err()).isEqualTo("to-err\n");
  }

  @Test
  void runPullsAMissingImageWithProgressOnStderr() throws Exception {
    var r = inferno.run("run", "--rm", "alpine:3.20", "echo", "pulled");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("pulled\n");
    assertThat(r.err())
        .contains("Unable to find image 'alpine:3.20' locally")
        .contains("Pull complete");
    var images = inferno.run("images");
    assertThat(images.out()).contains("docker.io/library/alpine").contains("3.20");
  }

  @Test
  void detachedRunThenLogsFollowUntilExit() throws Exception {
    var r =
        inferno.run(
            "run",
            "-d",
            "--name",
            "det1",
            "busybox",
            "sh",
            "-c",
            "for i in 1 2 3; do echo n$i; sleep 0.3; done; exit 3");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out().strip()).matches("[0-9a-f]{16}");
    var logs = inferno.run("logs", "-f", "det1");
    assertThat(logs.code()).as(logs.toString()).isZero();
    assertThat(logs.out()).isEqualTo("n1\nn2\nn3\n");
    var tail = inferno.run("logs", "--tail", "1", r.out().strip().substring(0, 5));
    assertThat(tail.out()).isEqualTo("n3\n");
    var ts = inferno.run("logs", "-t", "--since", "1h", "det1");
    assertThat(ts.out().lines().toList())
        .hasSize(3)
        .allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z n\\d"));
    var future = inferno.run("logs", "--since", "2099-01-01T00:00:00Z", "det1");
    assertThat(future.out()).isEmpty();
    var ps = inferno.run("ps", "-a", "--format", "json");
    Map<String, Object> det =
        ps.out()
            .lines()
            .map(Json::parseObject)
            .filter(m -> m.get("name").equals("det1"))
            .findFirst()
            .orElseThrow();
    assertThat(det).containsEntry("state", "exited");
  }

  @Test
  void stopKillRmAndPs() throws Exception {
    String id =
        inferno.run("run", "-d", "--name", "sleeper", "busybox", "sleep", "60").out().strip();
    var ps = inferno.run("ps");
    assertThat(ps.out().lines().findFirst().orElseThrow())
        .startsWith("VM ID   ")
        .contains("STATUS")
        .endsWith("NAMES");
    assertThat(ps.out()).contains(id.substring(0, 12)).contains("sleeper").contains("Up ");
    assertThat(inferno.run("ps", "-q").out()).contains(id.substring(0, 12));

    var rm = inferno.run("rm", "sleeper");
    assertThat(rm.code()).isEqualTo(1);
    assertThat(rm.err())
        .isEqualTo("inferno: VM sleeper is running: stop it first, or remove it with -f\n");

    long t0 = System.nanoTime();
    var stop = inferno.run("stop", "-t", "5", "sleeper");
    assertThat(stop.code()).as(stop.toString()).isZero();
    assertThat(stop.out()).isEqualTo("sleeper\n");
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(5);
    var inspect = inferno.run("inspect", "sleeper");
    List<?> arr = (List<?>) Json.parse(inspect.out());
    Map<?, ?> vm = (Map<?, ?>) arr.getFirst();
    assertThat(vm.get("state")).isEqualTo("exited");
    assertThat(((Map<?, ?>) vm.get("exit")).get("signal")).isEqualTo("SIGTERM");
    assertThat(inferno.run("ps").out()).doesNotContain("sleeper");
    assertThat(inferno.run("ps", "-a").out()).contains("sleeper").contains("Exited (143)");

    inferno.run(
        "run",
        "-d",
        "--name",
        "stubborn",
        "busybox",
        "sh",
        "-c",
        "trap '' TERM; echo up; while :; do sleep 0.1; done");
    inferno.awaitLog("stubborn", "up"); // the trap is set
    var k = inferno.run("kill", "-s", "TERM", "stubborn");
    assertThat(k.code()).isZero();
    Thread.sleep(300);
    assertThat(inferno.run("ps").out()).as("TERM is trapped").contains("stubborn");
    var rmf = inferno.run("rm", "-f", "stubborn", "sleeper");
    assertThat(rmf.code()).as(rmf.toString()).isZero();
    assertThat(inferno.run("ps", "-a").out()).doesNotContain("stubborn").doesNotContain("sleeper");
  }

  @Test
  void rmLeavesNoRecordAndEnvReachesTheProcess() throws Exception {
    Path envFile = dir.resolve("env");
    Files.writeString(envFile, "# comment\nFROM_FILE=yes\n\n");
    var r =
        inferno.run(
            "run",
            "--rm",
            "--name",
            "ephemeral",
            "-e",
            "GREETING=hello there",
            "--env-file",
            envFile.toString(),
            "busybox",
            "sh",
            "-c",
            "echo $GREETING $FROM_FILE");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("hello there yes\n");
    assertThat(inferno.run("ps", "-a").out()).doesNotContain("ephemeral");
  }

  @Test
  void errorsAreOneClearLine() throws Exception {
    inferno.run("run", "-d", "--name", "known-vm", "busybox", "true");
    var r = inferno.run("logs", "knwn-vm");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("inferno: no such VM: knwn-vm (did you mean known-vm?)\n");

    r = inferno.run("run", "nosuch/image");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err()).endsWith("manifest unknown (the registry has no such repository or tag)\n");

    r = inferno.run("run", "Bad:Ref:X");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err()).contains("invalid reference format");

    r = inferno.run("run", "--bogus", "busybox");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err()).startsWith("inferno: Unknown option: '--bogus'");

    r = inferno.run("run", "-m", "lots", "busybox");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err())
        .isEqualTo(
            "inferno: invalid size \"lots\": expected a number with an optional unit b, k, m, g or t\n");

    r = inferno.run("logs", "--since", "yesterday", "known-vm");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("inferno: invalid time \"yesterday\"");

    ProcessBuilder pb = new ProcessBuilder(Inferno.BIN.toString(), "ps");
    pb.environment().put("INFERNO_SOCKET", dir.resolve("nowhere.sock").toString());
    r = Inferno.finish(pb.start(), 60);
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .startsWith("inferno: cannot reach the inferno daemon at ")
        .contains("is it running?");
    assertThat(r.err().lines().count()).isEqualTo(1);
  }

  @Test
  void ctrlCStopsTheVmAndTheExitCodeIsItsOwn() throws Exception {
    Process p =
        inferno.spawn(
            "run",
            "--name",
            "interrupted",
            "busybox",
            "sh",
            "-c",
            "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.1; done");
    // wait for the VM to be up, then SIGINT the CLI as a terminal's Ctrl-C would
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!inferno.run("logs", "interrupted").out().contains("ready")) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(100);
    }
    new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
    var r = Inferno.finish(p, 30);
    assertThat(r.code()).as(r.toString()).isEqualTo(7);
    assertThat(r.out()).isEqualTo("ready\ngot-term\n");
  }

  @Test
  void imagesPullRmiVersionInfoCompletion() throws Exception {
    var pull = inferno.run("pull", "busybox");
    assertThat(pull.code()).as(pull.toString()).isZero();
    assertThat(pull.out())
        .contains(": Pull complete")
        .endsWith("docker.io/library/busybox:latest\n");
    var images = inferno.run("images", "--digests");
    assertThat(images.out().lines().findFirst().orElseThrow())
        .contains("REPOSITORY")
        .contains("DIGEST")
        .contains("IMAGE ID");
    var json = inferno.run("images", "--format", "json");
    assertThat(json.out().lines().map(Json::parseObject))
        .anyMatch(m -> m.get("reference").equals("docker.io/library/busybox:latest"));

    Path archive = dir.resolve("img.json");
    Files.writeString(archive, "{\"reference\":\"local/tool:1\",\"cmd\":[\"true\"]}");
    var load = inferno.run("load", "-i", archive.toString());
    assertThat(load.out()).isEqualTo("Loaded image: docker.io/local/tool:1\n");
    var rmi = inferno.run("rmi", "local/tool:1");
    assertThat(rmi.code()).as(rmi.toString()).isZero();
    assertThat(rmi.out()).startsWith("Untagged: docker.io/local/tool:1\nDeleted: sha256:");
    assertThat(inferno.run("rmi", "local/tool:1").err())
        .isEqualTo("inferno: no such image: local/tool:1\n");

    var v = inferno.run("version");
    assertThat(v.out()).contains("Client:").contains("Server:").contains("API version:  v1");
    var info = inferno.run("info");
    assertThat(info.out()).contains("VMM: process").contains("KVM: no");
    var completion = inferno.run("completion");
    assertThat(completion.out()).contains("complete -F").contains("logs").contains("--tail");
  }

  @Test
  void tagNamesAnImageTwiceHistoryShowsItsStepsAndRmiOfOneNameOnlyUntags() throws Exception {
    Path archive = dir.resolve("tagged.json");
    Files.writeString(archive, "{\"reference\":\"local/tagged:1\",\"cmd\":[\"true\"]}");
    assertThat(inferno.run("load", "-i", archive.toString()).code()).isZero();
    var tag = inferno.run("tag", "local/tagged:1", "local/other");
    assertThat(tag.code()).as(tag.toString()).isZero();
    assertThat(tag.out()).isEmpty();
    var images = inferno.run("images");
    List<String> rows = images.out().lines().filter(l -> l.startsWith("docker.io/local/")).toList();
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0)).startsWith("docker.io/local/other ").contains(" latest ");
    assertThat(rows.get(1)).startsWith("docker.io/local/tagged ").contains(" 1 ");
    String id = rows.get(0).split(" +")[2];
    assertThat(rows.get(1)).contains(id);

    var bad = inferno.run("tag", "local/tagged:1", "local/x@sha256:" + "a".repeat(64));
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).isEqualTo("inferno: refusing to create a tag with a digest reference\n");
    assertThat(inferno.run("tag", "nope:1", "x").err())
        .isEqualTo("inferno: no such image: nope:1\n");

    var history = inferno.run("history", "local/other");
    assertThat(history.code()).as(history.toString()).isZero();
    List<String> lines = history.out().lines().toList();
    assertThat(lines.get(0)).matches("IMAGE +CREATED +CREATED BY +SIZE +COMMENT");
    assertThat(lines).hasSize(3);
    assertThat(lines.get(1)).startsWith(id + " ").contains("/bin/sh -c #(nop)  CMD [true]");
    assertThat(lines.get(2)).startsWith("<missing> ").contains("1.23MB");
    assertThat(inferno.run("history", "-q", "--no-trunc", "local/other").out())
        .matches("sha256:[0-9a-f]{64}\n<missing>\n");

    var rmi = inferno.run("rmi", "local/tagged:1");
    assertThat(rmi.out()).isEqualTo("Untagged: docker.io/local/tagged:1\n");
    var last = inferno.run("rmi", "local/other");
    assertThat(last.out()).startsWith("Untagged: docker.io/local/other:latest\nDeleted: sha256:");
  }

  @Test
  void saveWritesAFileOrStdoutNeverATerminalAndLeavesNoPartialFile() throws Exception {
    // the test daemon's image backend saves its JSON stand-in for an archive, one line an image
    Path archive = dir.resolve("save-in.json");
    Files.writeString(archive, "{\"reference\":\"local/saved:1\",\"cmd\":[\"true\"]}");
    assertThat(inferno.run("load", "-i", archive.toString()).code()).isZero();
    String saved = "{\"cmd\":[\"true\"],\"reference\":\"docker.io/local/saved:1\"}\n";

    Path out = Files.createDirectories(dir.resolve("saves")).resolve("saved.tar");
    var toFile = inferno.run("save", "-o", out.toString(), "local/saved:1");
    assertThat(toFile.code()).as(toFile.toString()).isZero();
    assertThat(toFile.out()).isEmpty();
    assertThat(Json.parseObject(Files.readString(out))).isEqualTo(Json.parseObject(saved.strip()));
    var toStdout = inferno.run("save", "local/saved:1");
    assertThat(toStdout.code()).as(toStdout.toString()).isZero();
    assertThat(Json.parseObject(toStdout.out())).isEqualTo(Json.parseObject(saved.strip()));

    // an unknown image: the error, and neither the file nor a temp file beside it
    Path failed = out.resolveSibling("failed.tar");
    var unknown = inferno.run("save", "-o", failed.toString(), "local/saved:1", "nope:1");
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.err()).isEqualTo("inferno: no such image: nope:1\n");
    try (var files = Files.list(out.getParent())) {
      assertThat(files.map(f -> f.getFileName().toString())).containsExactly("saved.tar");
    }
    var noDir = inferno.run("save", "-o", dir.resolve("no/such/x.tar").toString(), "local/saved:1");
    assertThat(noDir.err())
        .isEqualTo(
            "inferno: invalid output path: directory "
                + dir.resolve("no/such")
                + " does not exist\n");

    // stdout on a terminal (script(1) gives the CLI a pty): refused, as docker refuses
    var onTty =
        Inferno.finish(
            new ProcessBuilder(
                    "script",
                    "-qec",
                    Inferno.BIN + " --socket " + inferno.socket + " save local/saved:1",
                    "/dev/null")
                .start(),
            30);
    assertThat(onTty.code()).as(onTty.toString()).isEqualTo(1);
    assertThat(onTty.out())
        .contains("inferno: cowardly refusing to save to a terminal. Use the -o flag or redirect")
        .doesNotContain("reference");
  }

  @Test
  void theCliLoadsNoDaemonJsonFrameworkOrJettyClasses() throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
            Inferno.BIN.toString(), "--socket", inferno.socket.toString(), "ps", "-a");
    pb.environment().put("INFERNO_JAVA_OPTS", "-Xlog:class+load=info:stdout");
    pb.environment().put("INFERNO_NO_AOT", "1");
    var r = Inferno.finish(pb.start(), 60);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("dev.inferno.cli.PsCommand");
    assertThat(r.out())
        .doesNotContain("dev.inferno.daemon.")
        .doesNotContain("org.eclipse.jetty")
        .doesNotContain("com.fasterxml")
        .doesNotContain("org.slf4j");
  }

  @Test
  void killingTheDaemonLeavesAConsistentStateAfterRestart() throws Exception {
    // a separate daemon: this test kills it
    Path d2 = dir.resolve("crash");
    Files.createDirectories(d2);
    try (Inferno i = Inferno.start(d2)) {
      i.run("run", "-d", "--name", "done-before", "busybox", "sh", "-c", "exit 5");
      i.run("run", "-d", "--name", "running-at-crash", "busybox", "sleep", "60");
      Thread.sleep(200);
      List<ProcessHandle> vms =
          ProcessHandle.of(i.daemonPid()).orElseThrow().descendants().toList();
      i.killDaemon();
      vms.forEach(
          ProcessHandle::destroyForcibly); // the process backend cannot re-adopt host processes
      i.startDaemon();
      var ps = i.run("ps", "-a", "--format", "json");
      Map<String, Map<String, Object>> byName = new java.util.HashMap<>();
      ps.out().lines().map(Json::parseObject).forEach(m -> byName.put((String) m.get("name"), m));
      assertThat(byName.get("done-before")).containsEntry("state", "exited");
      @SuppressWarnings("unchecked")
      Map<String, Object> exit = (Map<String, Object>) byName.get("running-at-crash").get("exit");
      assertThat(byName.get("running-at-crash")).containsEntry("state", "exited");
      assertThat((String) exit.get("reason")).contains("gone when the daemon restarted");
      assertThat(i.daemonLog()).contains("reconcile: VM running-at-crash vanished");
    }
  }
}
