package dev.inferno.image.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Debian's real {@code docker-registry} (distribution 2.8) on 127.0.0.1, with its own config: no
 * auth, htpasswd Basic auth, or token auth against a {@link TokenServer}.
 */
public final class LocalRegistry implements AutoCloseable {
  public static final String USER = "alice";
  public static final String PASSWORD = "s3cret-pw";

  public enum Auth {
    NONE,
    BASIC,
    TOKEN
  }

  private final Process process;
  private final int port;
  private final Path dir;
  private final TokenServer tokens;

  private LocalRegistry(Process process, int port, Path dir, TokenServer tokens) {
    this.process = process;
    this.port = port;
    this.dir = dir;
    this.tokens = tokens;
  }

  public static LocalRegistry start(Path dir, Auth auth) throws IOException {
    Files.createDirectories(dir);
    int port = freePort();
    StringBuilder cfg = new StringBuilder();
    cfg.append("version: 0.1\n")
        .append("log:\n  level: warn\n  accesslog:\n    disabled: true\n")
        .append("storage:\n  filesystem:\n    rootdirectory: ")
        .append(dir.resolve("data"))
        .append("\n  delete:\n    enabled: true\n")
        .append("http:\n  addr: 127.0.0.1:")
        .append(port)
        .append("\n");
    TokenServer tokens = null;
    if (auth == Auth.BASIC) {
      String line = Proc.run("htpasswd", "-Bbn", USER, PASSWORD).strip();
      Files.writeString(dir.resolve("htpasswd"), line + "\n");
      cfg.append("auth:\n  htpasswd:\n    realm: test-realm\n    path: ")
          .append(dir.resolve("htpasswd"))
          .append("\n");
    } else if (auth == Auth.TOKEN) {
      tokens = TokenServer.start(dir.resolve("token"), USER, PASSWORD);
      cfg.append("auth:\n  token:\n    realm: ")
          .append(tokens.realm())
          .append("\n    service: ")
          .append(TokenServer.SERVICE)
          .append("\n    issuer: ")
          .append(TokenServer.ISSUER)
          .append("\n    rootcertbundle: ")
          .append(tokens.certificate())
          .append("\n");
    }
    Path config = dir.resolve("config.yml");
    Files.writeString(config, cfg.toString());
    Process p =
        new ProcessBuilder("/usr/bin/docker-registry", "serve", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("registry.log").toFile())
            .start();
    LocalRegistry r = new LocalRegistry(p, port, dir, tokens);
    r.awaitUp();
    return r;
  }

  private void awaitUp() throws IOException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IOException(
            "docker-registry exited: " + Files.readString(dir.resolve("registry.log")));
      }
      try {
        HttpURLConnection c =
            (HttpURLConnection)
                URI.create("http://" + hostPort() + "/v2/").toURL().openConnection();
        c.setConnectTimeout(500);
        int code = c.getResponseCode();
        c.disconnect();
        if (code == 200 || code == 401) {
          return;
        }
      } catch (IOException notYet) {
        // starting
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }
    throw new IOException("docker-registry did not answer on " + hostPort() + " within 20 s");
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String hostPort() {
    return "127.0.0.1:" + port;
  }

  public TokenServer tokens() {
    return tokens;
  }

  /** Pushes {@code oci:layout:tag} to {@code repo:tag} with skopeo. */
  public void push(Path layout, String tag, String repo, String... extra) {
    List<String> cmd = new ArrayList<>(List.of("skopeo", "copy", "-q", "--dest-tls-verify=false"));
    if (tokens != null || Files.exists(dir.resolve("htpasswd"))) {
      cmd.add("--dest-creds=" + USER + ":" + PASSWORD);
    }
    cmd.addAll(List.of(extra));
    cmd.add("oci:" + layout + ":" + tag);
    cmd.add("docker://" + hostPort() + "/" + repo + ":" + tag);
    Proc.run(cmd.toArray(String[]::new));
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (tokens != null) {
      tokens.close();
    }
  }
}
