package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.model.json.Json;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 end to end with real guests (as {@link GuestTest}: the real daemon, kiln, QEMU TCG, the
 * real kernel and init, a busybox image): {@code run -i/-it}, detach keys and {@code attach},
 * {@code exec}, {@code cp} and {@code top}. Terminals are real pseudo-terminals driven by
 * pty_drive.py (python3's os.openpty), never a fake.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InteractiveTest {
  static final String IMAGE = "busybox:latest";

  @TempDir static Path dir;
  Inferno inferno;
  Path driver;

  @BeforeAll
  void start() throws Exception {
    inferno = Inferno.startGuests(dir, "");
    inferno.loadBusybox(IMAGE);
    driver = dir.resolve("pty_drive.py");
    try (InputStream in = getClass().getResourceAsStream("pty_drive.py")) {
      Files.write(driver, in.readAllBytes());
    }
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.removeAllAndClose();
    }
  }

  /** Drives {@code inferno --socket S args…} through a real pty with these steps (pty_drive.py). */
  private String pty(int rows, int cols, List<String> steps, String... args) throws Exception {
    Path stepsFile = Files.createTempFile(dir, "steps", ".txt");
    Files.write(stepsFile, steps);
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "python3",
                driver.toString(),
                stepsFile.toString(),
                String.valueOf(rows),
                String.valueOf(cols),
                "--",
                Inferno.BIN.toString(),
                "--socket",
                inferno.socket.toString()));
    cmd.addAll(List.of(args));
    var r = Inferno.finish(new ProcessBuilder(cmd).redirectErrorStream(true).start(), 240);
    assertThat(r.code()).as(r.out()).isZero();
    return r.out();
  }

  private String state(String vm) throws Exception {
    var r = inferno.run("inspect", vm);
    if (r.code() != 0) {
      return "";
    }
    Map<?, ?> m = (Map<?, ?>) ((List<?>) Json.parse(r.out())).getFirst();
    return String.valueOf(m.get("state"));
  }

  private void awaitState(String vm, String want) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!state(vm).equals(want)) {
      assertThat(System.nanoTime()).as("%s never became %s", vm, want).isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  @Test
  void runIPipesStdinAndItsEndOfFile() throws Exception {
    var hello =
        inferno.runWithInput(
            "hello".getBytes(StandardCharsets.UTF_8), 120, "run", "-i", "--rm", IMAGE, "cat");
    assertThat(hello.code()).as(hello.toString()).isZero();
    assertThat(hello.out()).isEqualTo("hello");

    byte[] big = new byte[10 << 20];
    new Random(11).nextBytes(big);
    String want = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(big));
    var sum = inferno.runWithInput(big, 240, "run", "-i", "--rm", IMAGE, "sha256sum");
    assertThat(sum.code()).as(sum.toString()).isZero();
    assertThat(sum.out()).isEqualTo(want + "  -\n");

    // a workload that waits for the end of its input finishes once ours ends
    var eof =
        inferno.runWithInput(
            "a\nb\nc\n".getBytes(StandardCharsets.UTF_8),
            120,
            "run",
            "-i",
            "--rm",
            IMAGE,
            "sh",
            "-c",
            "wc -l; echo done >&2; exit 4");
    assertThat(eof.code()).as(eof.toString()).isEqualTo(4);
    assertThat(eof.out().strip()).isEqualTo("3");
    assertThat(eof.err()).isEqualTo("done\n");
  }

  @Test
  void runItIsARealTerminal() throws Exception {
    String t =
        pty(
            30,
            100,
            List.of(
                "expect # 120",
                "send echo $((6*7))\\r",
                "expect \\n42\\r 30",
                "send stty size\\r",
                "expect 30 100 30",
                "resize 41 132",
                // the new size reaches the guest's terminal through the CLI's SIGWINCH, the
                // daemon and the guest link: wait for it there (the typed line does not match)
                "send while [ \"$(stty size)\" != \"41 132\" ]; do sleep 0.1; done;"
                    + " echo $((40+1))x132\\r",
                "expect 41x132 30",
                "send sleep 60\\r",
                "sleep 2",
                "send \\x03",
                "expect # 20",
                "send echo alive-$((1+1))\\r",
                "expect alive-2 30",
                "send exit 3\\r",
                "exit 3 60",
                "stty-same"),
            "run",
            "-it",
            "--rm",
            "--name",
            "term",
            IMAGE,
            "sh");
    assertThat(t).contains("PASSED");
  }

  @Test
  void theTerminalIsRestoredWhenTheDaemonGoesAway() throws Exception {
    Path mark = dir.resolve("prompted");
    CompletableFuture<String> session =
        CompletableFuture.supplyAsync(() -> {
          try {
            return pty(
                24,
                80,
                List.of("expect # 120", "mark " + mark, "exit !0 60", "stty-same"),
                "run",
                "-it",
                "--name",
                "orphan",
                IMAGE,
                "sh");
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
    while (!Files.exists(mark)) {
      assertThat(System.nanoTime()).as("no prompt").isLessThan(deadline);
      Thread.sleep(100);
    }
    inferno.killDaemon();
    try {
      assertThat(session.get(90, TimeUnit.SECONDS)).contains("PASSED");
    } finally {
      inferno.startDaemon();
    }
    inferno.run("rm", "-f", "orphan");
  }

  @Test
  void detachKeysLeaveItRunningAndAttachGetsBackIn() throws Exception {
    pty(
        24,
        80,
        List.of(
            "expect # 120",
            "send echo first\\r",
            "expect \\nfirst 30",
            "send \\x10\\x11",
            "exit 0 30",
            "stty-same"),
        "run",
        "-it",
        "--name",
        "det",
        IMAGE,
        "sh");
    assertThat(state("det")).isEqualTo("running");
    // back in with other keys, out again with them
    pty(
        24,
        80,
        List.of(
            "send echo back-$((2+2))\\r",
            "expect back-4 60",
            "send \\x01d",
            "exit 0 30",
            "stty-same"),
        "attach",
        "--detach-keys",
        "ctrl-a,d",
        "det");
    assertThat(state("det")).isEqualTo("running");
    pty(
        24,
        80,
        List.of("send echo third\\r", "expect \\nthird 60", "send exit 7\\r", "exit 7 60"),
        "attach",
        "det");
    awaitState("det", "exited");
    inferno.run("rm", "det");
  }

  @Test
  void execRunsCommandsInARunningVm() throws Exception {
    var d = inferno.run("run", "-d", "--name", "ex", IMAGE, "sleep", "600");
    assertThat(d.code()).as(d.toString()).isZero();
    awaitState("ex", "running");

    var code = inferno.run("exec", "ex", "sh", "-c", "echo out; echo err >&2; exit 5");
    assertThat(code.code()).as(code.toString()).isEqualTo(5);
    assertThat(code.out()).isEqualTo("out\n");
    assertThat(code.err()).isEqualTo("err\n");
    var user = inferno.run("exec", "-u", "nobody", "ex", "id", "-u");
    assertThat(user.out()).as(user.toString()).isEqualTo("65534\n");
    var wd = inferno.run("exec", "-w", "/tmp", "ex", "pwd");
    assertThat(wd.out()).as(wd.toString()).isEqualTo("/tmp\n");
    var env = inferno.run("exec", "-e", "GREETING=hi there", "ex", "sh", "-c", "echo $GREETING");
    assertThat(env.out()).as(env.toString()).isEqualTo("hi there\n");
    var in =
        inferno.runWithInput(
            "x\ny\n".getBytes(StandardCharsets.UTF_8), 60, "exec", "-i", "ex", "wc", "-l");
    assertThat(in.code()).as(in.toString()).isZero();
    assertThat(in.out().strip()).isEqualTo("2");
    var missing = inferno.run("exec", "ex", "nosuch");
    assertThat(missing.code()).as(missing.toString()).isEqualTo(127);
    assertThat(missing.err()).contains("nosuch");
    var rel = inferno.run("exec", "-w", "tmp", "ex", "pwd");
    assertThat(rel.code()).as(rel.toString()).isEqualTo(125);

    // five at once, each its own output and code
    List<Process> ps = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ps.add(inferno.spawn("exec", "ex", "sh", "-c", "sleep 1; echo n" + i + "; exit " + (10 + i)));
    }
    for (int i = 0; i < 5; i++) {
      var r = Inferno.finish(ps.get(i), 120);
      assertThat(r.code()).as(r.toString()).isEqualTo(10 + i);
      assertThat(r.out()).isEqualTo("n" + i + "\n");
    }

    String t =
        pty(
            24,
            80,
            List.of(
                "expect # 60",
                "send tty; stty size\\r",
                "expect /dev/pts/\\d+ 30",
                "expect 24 80 30",
                "send exit 2\\r",
                "exit 2 60",
                "stty-same"),
            "exec",
            "-it",
            "ex",
            "sh");
    assertThat(t).contains("PASSED");

    var top = inferno.run("top", "ex");
    assertThat(top.code()).as(top.toString()).isZero();
    assertThat(top.out().lines().findFirst().orElse("")).contains("PID").contains("CMD");
    assertThat(top.out()).contains("sleep 600");

    inferno.run("kill", "ex");
    awaitState("ex", "exited");
    var stopped = inferno.run("exec", "ex", "true");
    assertThat(stopped.code()).as(stopped.toString()).isEqualTo(1);
    assertThat(stopped.err()).startsWith("inferno: ").containsIgnoringCase("not running");
    inferno.run("rm", "ex");
  }

  @Test
  void execWhileTheMainProcessExits() throws Exception {
    var d = inferno.run("run", "-d", "--name", "ending", IMAGE, "sleep", "3");
    assertThat(d.code()).as(d.toString()).isZero();
    var r = inferno.run("exec", "ending", "sleep", "30");
    // the VM ends under the exec: it ends too, with a code (never hangs)
    assertThat(r.code()).as(r.toString()).isNotZero();
    awaitState("ending", "exited");
    inferno.run("rm", "ending");
  }

  @Test
  void cpCopiesTreesBothWays() throws Exception {
    var d = inferno.run("run", "-d", "--name", "cp", IMAGE, "sleep", "600");
    assertThat(d.code()).as(d.toString()).isZero();
    awaitState("cp", "running");
    Path src = dir.resolve("tree");
    Files.createDirectories(src.resolve("sub"));
    Files.writeString(src.resolve("run.sh"), "#!/bin/sh\necho ran\n");
    Files.setAttribute(src.resolve("run.sh"), "unix:mode", 0750);
    Files.writeString(src.resolve("sub/" + "n".repeat(120)), "long name\n");
    Files.createSymbolicLink(src.resolve("link"), Path.of("run.sh"));

    var in = inferno.run("cp", src.toString(), "cp:/tmp");
    assertThat(in.code()).as(in.toString()).isZero();
    var check =
        inferno.run(
            "exec",
            "cp",
            "sh",
            "-c",
            "stat -c '%a %U' /tmp/tree/run.sh; readlink /tmp/tree/link; /tmp/tree/link;"
                + " cat /tmp/tree/sub/"
                + "n".repeat(120));
    assertThat(check.out()).as(check.toString()).isEqualTo("750 root\nrun.sh\nran\nlong name\n");
    // a destination that does not exist is the copy's new name (docker cp's rule)
    assertThat(inferno.run("cp", src.toString(), "cp:/tmp/renamed").code()).isZero();
    assertThat(inferno.run("exec", "cp", "cat", "/tmp/renamed/sub/" + "n".repeat(120)).out())
        .isEqualTo("long name\n");

    assertThat(inferno.run("cp", src.toString(), "cp:/srv").code()).isZero(); // no /srv yet
    assertThat(inferno.run("exec", "cp", "/srv/link").out()).isEqualTo("ran\n");

    Path back = Files.createDirectory(dir.resolve("back"));
    var out = inferno.run("cp", "cp:/tmp/tree", back.toString());
    assertThat(out.code()).as(out.toString()).isZero();
    assertThat(back.resolve("tree/run.sh")).hasContent("#!/bin/sh\necho ran");
    assertThat(Files.getAttribute(back.resolve("tree/run.sh"), "unix:mode")).isEqualTo(0100750);
    assertThat(Files.readSymbolicLink(back.resolve("tree/link"))).isEqualTo(Path.of("run.sh"));
    var file = inferno.run("cp", "cp:/tmp/tree/run.sh", back.resolve("copied.sh").toString());
    assertThat(file.code()).as(file.toString()).isZero();
    assertThat(back.resolve("copied.sh")).hasContent("#!/bin/sh\necho ran");

    var missing = inferno.run("cp", "cp:/no/such", back.toString());
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).contains("/no/such");
    // a guest symlink pointing out of the copy is copied as a link, never followed on the host
    assertThat(inferno.run("exec", "cp", "ln", "-s", "/etc", "/tmp/tree/escape").code()).isZero();
    Path again = Files.createDirectory(dir.resolve("again"));
    assertThat(inferno.run("cp", "cp:/tmp/tree", again.toString()).code()).isZero();
    assertThat(Files.isSymbolicLink(again.resolve("tree/escape"))).isTrue();

    inferno.run("kill", "cp");
    awaitState("cp", "exited");
    var stopped = inferno.run("cp", "cp:/tmp/tree", again.toString());
    assertThat(stopped.code()).isEqualTo(1);
    assertThat(stopped.err()).contains("is not running");
    inferno.run("rm", "cp");
  }
}
