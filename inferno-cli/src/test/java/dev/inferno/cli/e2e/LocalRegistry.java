package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Debian's docker-registry on a free loopback port, its storage and log in {@code dir}: the real
 * registry the e2e pulls go to. Started answering {@code /v2/}; {@link #close} stops it.
 */
final class LocalRegistry implements AutoCloseable {
  final int port;
  private final Process process;

  private LocalRegistry(int port, Process process) {
    this.port = port;
    this.process = process;
  }

  static LocalRegistry start(Path dir) throws Exception {
    Files.createDirectories(dir);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path config = dir.resolve("config.yml");
    Files.writeString(
        config,
        "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
            + "storage:\n  filesystem:\n    rootdirectory: "
            + dir.resolve("data")
            + "\nhttp:\n  addr: 127.0.0.1:"
            + port
            + "\n");
    Process p =
        new ProcessBuilder("/usr/bin/docker-registry", "serve", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("registry.log").toFile())
            .start();
    LocalRegistry r = new LocalRegistry(port, p);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      try {
        var c = URI.create("http://127.0.0.1:" + port + "/v2/").toURL().openConnection();
        c.setConnectTimeout(500);
        if (((java.net.HttpURLConnection) c).getResponseCode() == 200) {
          return r;
        }
      } catch (IOException notYet) {
        // starting
      }
      if (!p.isAlive() || System.nanoTime() > deadline) {
        r.close();
      }
      assertThat(p.isAlive()).as("docker-registry exited").isTrue();
      assertThat(System.nanoTime()).as("docker-registry did not answer").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    process.waitFor();
  }
}
