package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The interactive verbs' wire against the real daemon API with its process backend (each VM and
 * exec a host process, archives host tar streams): fast checks of the CLI's side before the real
 * guests of {@link InteractiveTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InteractiveCliTest {
  @TempDir static Path dir;
  Inferno inferno;

  @BeforeAll
  void start() throws Exception {
    inferno = Inferno.start(dir);
    var pull = inferno.run("pull", "busybox");
    assertThat(pull.code()).as(pull.toString()).isZero();
  }

  @AfterAll
  void stop() throws Exception {
    inferno.close();
  }

  @Test
  void runIPipesStdinToTheMainProcessAndEndsIt() throws Exception {
    var r =
        inferno.runWithInput(
            "one\ntwo\n".getBytes(StandardCharsets.UTF_8),
            60,
            "run",
            "-i",
            "--rm",
            "--name",
            "ri",
            "busybox",
            "sh",
            "-c",
            "wc -l; echo bye >&2; exit 6");
    assertThat(r.code()).as(r.toString()).isEqualTo(6);
    assertThat(r.out().strip()).isEqualTo("2");
    assertThat(r.err()).isEqualTo("bye\n");
    // as docker run --rm: the exit is told once the VM is gone
    var gone = inferno.run("inspect", "ri");
    assertThat(gone.code()).as(gone.toString()).isNotZero();
    assertThat(gone.err()).contains("ri");
  }

  @Test
  void startIShowsThisBootsOutputFromItsFirstByteAndPipesStdin() throws Exception {
    var c =
        inferno.run(
            "create", "-i", "--name", "si", "busybox", "sh", "-c", "echo early; cat; exit 3");
    assertThat(c.code()).as(c.toString()).isZero();
    // "early" is written as soon as the process starts, before the attach that follows the start
    var first =
        inferno.runWithInput("one\n".getBytes(StandardCharsets.UTF_8), 60, "start", "-i", "si");
    assertThat(first.code()).as(first.toString()).isEqualTo(3);
    assertThat(first.out()).isEqualTo("early\none\n");
    var second =
        inferno.runWithInput("two\n".getBytes(StandardCharsets.UTF_8), 60, "start", "-i", "si");
    assertThat(second.out()).as("this boot's output only").isEqualTo("early\ntwo\n");
    assertThat(inferno.run("rm", "si").code()).isZero();
  }

  @Test
  void execPassesStreamsCodesEnvWorkdirAndStdin() throws Exception {
    var d = inferno.run("run", "-d", "--name", "ex", "busybox", "sleep", "60");
    assertThat(d.code()).as(d.toString()).isZero();
    var r = inferno.run("exec", "ex", "sh", "-c", "echo out; echo err >&2; exit 5");
    assertThat(r.code()).as(r.toString()).isEqualTo(5);
    assertThat(r.out()).isEqualTo("out\n");
    assertThat(r.err()).isEqualTo("err\n");
    var e = inferno.run("exec", "-e", "A=b c", "-w", "/tmp", "ex", "sh", "-c", "echo $A; pwd");
    assertThat(e.out()).as(e.toString()).isEqualTo("b c\n/tmp\n");
    var i =
        inferno.runWithInput(
            "x\ny\nz\n".getBytes(StandardCharsets.UTF_8), 60, "exec", "-i", "ex", "wc", "-l");
    assertThat(i.code()).as(i.toString()).isZero();
    assertThat(i.out().strip()).isEqualTo("3");
    var missing = inferno.run("exec", "ex", "no-such-command-here");
    assertThat(missing.code()).as(missing.toString()).isEqualTo(127);
    assertThat(missing.err()).contains("no-such-command-here");
    var bg = inferno.run("exec", "-d", "ex", "sh", "-c", "echo hidden");
    assertThat(bg.code()).as(bg.toString()).isZero();
    assertThat(bg.out()).isEmpty();
    inferno.run("kill", "ex");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (inferno.run("inspect", "ex").out().contains("\"running\"")) {
      assertThat(System.nanoTime()).as("ex never exited").isLessThan(deadline);
      Thread.sleep(100);
    }
    var stopped = inferno.run("exec", "ex", "true");
    assertThat(stopped.code()).as(stopped.toString()).isEqualTo(1);
    assertThat(stopped.err()).startsWith("inferno: ");
    inferno.run("rm", "-f", "ex");
  }

  @Test
  void cpBothWaysWithTheDestinationRules() throws Exception {
    var d = inferno.run("run", "-d", "--name", "cp", "busybox", "sleep", "60");
    assertThat(d.code()).as(d.toString()).isZero();
    // the process backend's "VM" file system is the host's: copy between two temp trees
    Path guest = Files.createDirectories(dir.resolve("guest"));
    Path src = Files.createDirectories(dir.resolve("src/tree/sub"));
    Files.writeString(src.resolve("f.txt"), "hello\n");
    Files.setAttribute(src.resolve("f.txt"), "unix:mode", 0640);
    Files.createSymbolicLink(src.getParent().resolve("link"), Path.of("sub/f.txt"));
    var in = inferno.run("cp", dir.resolve("src/tree").toString(), "cp:" + guest);
    assertThat(in.code()).as(in.toString()).isZero();
    assertThat(guest.resolve("tree/sub/f.txt")).hasContent("hello");
    assertThat(Files.getAttribute(guest.resolve("tree/sub/f.txt"), "unix:mode")).isEqualTo(0100640);
    assertThat(Files.readSymbolicLink(guest.resolve("tree/link"))).isEqualTo(Path.of("sub/f.txt"));
    // a new name: the directory's content lands as that name
    assertThat(inferno.run("cp", dir.resolve("src/tree").toString(), "cp:" + guest + "/new").code())
        .isZero();
    assertThat(guest.resolve("new/sub/f.txt")).hasContent("hello");

    Path back = Files.createDirectories(dir.resolve("back"));
    var out = inferno.run("cp", "cp:" + guest.resolve("tree"), back.toString());
    assertThat(out.code()).as(out.toString()).isZero();
    assertThat(back.resolve("tree/sub/f.txt")).hasContent("hello");
    assertThat(Files.readSymbolicLink(back.resolve("tree/link"))).isEqualTo(Path.of("sub/f.txt"));
    var file =
        inferno.run(
            "cp", "cp:" + guest.resolve("tree/sub/f.txt"), back.resolve("g.txt").toString());
    assertThat(file.code()).as(file.toString()).isZero();
    assertThat(back.resolve("g.txt")).hasContent("hello");
    var dirToFile =
        inferno.run("cp", "cp:" + guest.resolve("tree"), back.resolve("g.txt").toString());
    assertThat(dirToFile.code()).isEqualTo(125);
    assertThat(dirToFile.err()).contains("cannot copy a directory to a file");
    var missing = inferno.run("cp", "cp:" + guest.resolve("nope"), back.toString());
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).contains("nope");

    var top = inferno.run("top", "cp");
    assertThat(top.code()).as(top.toString()).isZero();
    assertThat(top.out().lines().findFirst().orElse("")).contains("PID");
    inferno.run("rm", "-f", "cp");
  }
}
