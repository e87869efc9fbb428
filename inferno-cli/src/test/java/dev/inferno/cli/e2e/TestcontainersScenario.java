package dev.inferno.cli.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.images.builder.Transferable;

/**
 * What a Testcontainers user writes, run in a JVM of its own so that it is configured the way a
 * user configures it: {@code DOCKER_HOST=unix://…/docker.sock} and {@code
 * TESTCONTAINERS_RYUK_DISABLED=true} in the environment (Testcontainers reads them there). Prints
 * one {@code ok: …} line per step; any failure is an exception and exit code 1.
 *
 * <p>args: IMAGE (a busybox loaded into the daemon)
 */
public final class TestcontainersScenario {
  private TestcontainersScenario() {}

  public static void main(String[] args) throws Exception {
    String image = args[0];
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    String id;
    try (GenericContainer<?> c =
        new GenericContainer<>(image)
            .withExposedPorts(80)
            .withCommand(
                "sh",
                "-c",
                "mkdir -p /www && echo hello from a microVM > /www/index.html"
                    + " && echo started && echo to-stderr >&2 && exec httpd -f -p 80 -h /www")
            .withStartupTimeout(Duration.ofMinutes(3))) {
      c.start(); // the default wait strategy: the exposed port listens, inside and from here
      id = c.getContainerId();
      int port = c.getMappedPort(80);
      System.out.println("ok: started " + id + ", 80 mapped to " + c.getHost() + ":" + port);

      String index = get(http, "http://" + c.getHost() + ":" + port + "/index.html");
      check(index.equals("hello from a microVM\n"), "GET /index.html answered " + index);
      System.out.println("ok: GET / through the mapped port");

      String logs = c.getLogs();
      check(logs.contains("started") && logs.contains("to-stderr"), "getLogs gave " + logs);
      System.out.println("ok: getLogs");

      Container.ExecResult ls = c.execInContainer("sh", "-c", "echo out; echo err >&2; exit 4");
      check(
          ls.getExitCode() == 4 && ls.getStdout().equals("out\n") && ls.getStderr().equals("err\n"),
          "execInContainer gave " + ls);
      System.out.println("ok: execInContainer");

      c.copyFileToContainer(Transferable.of("copied in\n"), "/www/copied.txt");
      String copied = get(http, "http://" + c.getHost() + ":" + port + "/copied.txt");
      check(copied.equals("copied in\n"), "the copied file served " + copied);
      Container.ExecResult cat = c.execInContainer("cat", "/www/copied.txt");
      check(cat.getStdout().equals("copied in\n"), "cat of the copied file gave " + cat);
      System.out.println("ok: copyFileToContainer");

      c.stop();
      check(!c.isRunning(), "still running after stop");
      System.out.println("ok: stop " + id);
    }
  }

  private static String get(HttpClient http, String url) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
            HttpResponse.BodyHandlers.ofString());
    check(r.statusCode() == 200, "GET " + url + " answered " + r.statusCode() + ": " + r.body());
    return r.body();
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new AssertionError(what);
    }
  }
}
