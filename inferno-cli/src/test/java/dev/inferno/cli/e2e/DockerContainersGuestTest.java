package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's container commands with the real docker CLIs (Debian's 20.10 at API 1.41 and the newer
 * one negotiating 1.44) against one daemon running real guests (kiln, QEMU TCG): {@code run} with
 * and without {@code --rm}, its exit code, {@code -d}, {@code ps}, {@code ps -a}, {@code inspect},
 * {@code -p} with an HTTP GET from here, {@code stop -t}, {@code kill}, {@code rm -f} and {@code
 * run -it} through a real pseudo-terminal (pty_drive.py, as {@link InteractiveTest}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerContainersGuestTest {
  static final String IMAGE = "busybox";

  @TempDir static Path dir;
  Inferno inferno;
  Path driver;

  @BeforeAll
  void start() throws Exception {
    inferno =
        Inferno.startGuests(
            dir,
            "network-table = inferno_dk_c\nnetwork-tap-prefix = idc\nnetwork-pool = 10.241.0.0/16\n");
    inferno.loadBusybox("busybox:latest");
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

  @Test
  void runPrintsAndExitsWithTheWorkloadsCode() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      var hi = inferno.dockerOk(cli, "run", "--rm", IMAGE, "echo", "hi");
      assertThat(hi.out()).as(cli.toString()).isEqualTo("hi\n");

      String name = "exit3-" + tag(cli);
      var three = inferno.docker(cli, "run", "--name", name, IMAGE, "sh", "-c", "echo out; exit 3");
      assertThat(three.code()).as(cli + ": " + three).isEqualTo(3);
      assertThat(three.out()).isEqualTo("out\n");
      // without --rm it stays, exited with that code; ps -a shows it, ps does not
      assertThat(inferno.dockerOk(cli, "ps", "-a", "--format", "{{.Names}} {{.Status}}").out())
          .contains(name + " Exited (3)");
      assertThat(inferno.dockerOk(cli, "ps", "--format", "{{.Names}}").out()).doesNotContain(name);
      assertThat(
              inferno
                  .dockerOk(cli, "inspect", "-f", "{{.State.ExitCode}} {{.State.Status}}", name)
                  .out())
          .isEqualTo("3 exited\n");
      inferno.dockerOk(cli, "rm", name);
      // the --rm one is gone
      assertThat(inferno.dockerOk(cli, "ps", "-a", "-q").out().strip()).isEmpty();
    }
  }

  /**
   * docker run -i: piped input reaches the workload and its end ends the workload's input. Twice
   * per CLI: the input was dropped when the attach looked for the VM's session a moment before the
   * VM's handle was registered (about half the runs).
   */
  @Test
  void runIPipesStdinToTheWorkload() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      for (int i = 0; i < 2; i++) {
        var r =
            Inferno.finish(
                inferno.spawnDocker(cli, "run", "--rm", "-i", IMAGE, "sh", "-c", "cat; echo done"),
                "piped in\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                120);
        assertThat(r.code()).as(cli + ": " + r).isZero();
        assertThat(r.out()).as(cli.toString()).isEqualTo("piped in\ndone\n");
      }
    }
  }

  @Test
  void detachedWithPublishedPortThenStopKillRm() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      String web = "web-" + tag(cli);
      int port = Inferno.freePort();
      var run =
          inferno.dockerOk(
              cli,
              "run",
              "-d",
              "--name",
              web,
              "-p",
              port + ":80",
              IMAGE,
              "sh",
              "-c",
              "mkdir -p /www && echo hello-docker > /www/index.html && exec httpd -f -p 80 -h /www");
      String id = run.out().strip();
      assertThat(id).matches("[0-9a-f]{12,64}");

      assertThat(awaitBody("http://127.0.0.1:" + port + "/")).isEqualTo("hello-docker\n");
      String ps =
          inferno.dockerOk(cli, "ps", "--format", "{{.Names}}|{{.Status}}|{{.Ports}}").out();
      assertThat(ps).contains(web + "|Up ").contains("0.0.0.0:" + port + "->80/tcp");
      var inspect =
          inferno.dockerOk(
              cli, "inspect", "-f", "{{.State.Running}} {{json .NetworkSettings.Ports}}", web);
      assertThat(inspect.out())
          .isEqualTo(
              "true {\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"" + port + "\"}]}\n");

      // stop -t 1: httpd dies of SIGTERM; ps -a shows it exited, ps does not
      inferno.dockerOk(cli, "stop", "-t", "1", web);
      assertThat(
              inferno
                  .dockerOk(cli, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", web)
                  .out())
          .isEqualTo("exited 143\n");
      assertThat(inferno.dockerOk(cli, "ps", "--format", "{{.Names}}").out()).doesNotContain(web);
      assertThat(inferno.dockerOk(cli, "ps", "-a", "--format", "{{.Names}}").out()).contains(web);

      // kill: SIGKILL, 137; killing it again is Docker's 409, the CLI's failure
      String sleeper = "sleeper-" + tag(cli);
      inferno.dockerOk(cli, "run", "-d", "--name", sleeper, IMAGE, "sleep", "600");
      inferno.dockerOk(cli, "kill", sleeper);
      assertThat(inferno.dockerOk(cli, "wait", sleeper).out()).isEqualTo("137\n");
      var again = inferno.docker(cli, "kill", sleeper);
      assertThat(again.code()).isNotZero();
      assertThat(again.err()).contains("is not running");

      // rm -f of a running one (the restarted sleeper); then nothing is left
      inferno.dockerOk(cli, "start", sleeper);
      assertThat(inferno.dockerOk(cli, "inspect", "-f", "{{.State.Running}}", sleeper).out())
          .isEqualTo("true\n");
      var busy = inferno.docker(cli, "rm", sleeper);
      assertThat(busy.code()).isNotZero();
      inferno.dockerOk(cli, "rm", "-f", sleeper, web);
      assertThat(inferno.dockerOk(cli, "ps", "-a", "-q").out().strip()).isEmpty();
      var gone = inferno.docker(cli, "inspect", web);
      assertThat(gone.code()).isNotZero();
      assertThat(gone.err()).contains("No such");
    }
  }

  @Test
  void runItThroughAPseudoTerminal() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      Path steps = Files.createTempFile(dir, "steps", ".txt");
      Files.write(
          steps,
          List.of(
              "expect / # 180",
              "send echo $((6*7))-answer\\r",
              "expect 42-answer 60",
              "send stty size\\r",
              "expect 30 100 60",
              "send exit 4\\r",
              "exit 4 120"));
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  "python3",
                  driver.toString(),
                  steps.toString(),
                  "30",
                  "100",
                  "--",
                  cli.toString(),
                  "run",
                  "-it",
                  "--rm",
                  IMAGE,
                  "sh"));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      inferno.dockerEnv(pb.environment());
      var r = Inferno.finish(pb.start(), 300);
      assertThat(r.code()).as(cli + ": " + r.out()).isZero();
    }
  }

  private static String tag(Path cli) {
    return cli.equals(Inferno.DEBIAN_DOCKER) ? "deb" : "new";
  }

  /** The body of a GET once the guest's server answers (it boots under TCG: slow). */
  private static String awaitBody(String url) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        var res =
            http.send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() == 200) {
          return res.body();
        }
      } catch (java.io.IOException e) {
        last = e;
      }
      Thread.sleep(500);
    }
    throw new AssertionError("no answer from " + url, last);
  }
}
