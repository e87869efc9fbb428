package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code inferno login}/{@code logout} through the real bin/inferno and a real daemon (real image
 * backend; no VM boots, so the kernel and init are placeholders) against a real docker-registry
 * with htpasswd auth.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoginTest {
  static final String USER = "alice";
  static final String PASSWORD = "pw-for-login-test";

  @TempDir static Path dir;
  Inferno inferno;
  Process registry;
  String server;
  String image;

  @BeforeAll
  void start() throws Exception {
    int port = startRegistry(dir.resolve("registry"));
    server = "127.0.0.1:" + port;
    image = server + "/private/hello:1";
    // a one-file image, pushed with credentials
    Path layout = dir.resolve("layout");
    Path bundle = dir.resolve("bundle");
    sh("umoci", "init", "--layout", layout.toString());
    sh("umoci", "new", "--image", layout + ":1");
    sh("umoci", "unpack", "--rootless", "--image", layout + ":1", bundle.toString());
    Files.writeString(bundle.resolve("rootfs/hello"), "hi\n");
    sh("umoci", "repack", "--image", layout + ":1", bundle.toString());
    sh(
        "skopeo",
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        USER + ":" + PASSWORD,
        "oci:" + layout + ":1",
        "docker://" + image);
    Path kernel = Files.writeString(dir.resolve("vmlinux"), "placeholder: no VM boots here\n");
    Path init = Files.writeString(dir.resolve("init"), "placeholder: no VM boots here\n");
    inferno = Inferno.startKiln(dir, kernel, init);
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.close();
    }
    if (registry != null) {
      registry.destroy();
      registry.waitFor();
    }
  }

  @Test
  void loginStoresCredentialsThePullThenUsesAndLogoutRemovesThem() throws Exception {
    var before = inferno.run("pull", image);
    assertThat(before.code()).as(before.toString()).isEqualTo(1);
    assertThat(before.err()).contains("authentication required by " + server);

    var bad = login(USER, "wrong-password");
    assertThat(bad.code()).as(bad.toString()).isEqualTo(1);
    assertThat(bad.err())
        .isEqualTo(
            "inferno: login to "
                + server
                + " failed: unauthorized: check the user name and password\n");
    Path auth = dir.resolve("state/auth.json");
    assertThat(auth).doesNotExist();

    var good = login(USER, PASSWORD);
    assertThat(good.code()).as(good.toString()).isZero();
    assertThat(good.out()).isEqualTo("Login Succeeded\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(auth)))
        .isEqualTo("rw-------");
    String stored = Files.readString(auth);
    assertThat(stored)
        .contains("\"" + server + "\"")
        .contains(
            Base64.getEncoder()
                .encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8)))
        .doesNotContain(PASSWORD);

    var pull = inferno.run("pull", image);
    assertThat(pull.code()).as(pull.toString()).isZero();
    assertThat(inferno.run("images").out()).contains(server + "/private/hello");

    var logout = inferno.run("logout", server);
    assertThat(logout.code()).as(logout.toString()).isZero();
    assertThat(logout.out()).isEqualTo("Removing login credentials for " + server + "\n");
    assertThat(stored = Files.readString(auth)).doesNotContain(server);
    assertThat(inferno.run("logout", server).out()).isEqualTo("Not logged in to " + server + "\n");

    assertThat(inferno.run("rmi", image).code()).isZero();
    var after = inferno.run("pull", image);
    assertThat(after.code()).as(after.toString()).isEqualTo(1);
    assertThat(after.err()).contains("authentication required by " + server);
  }

  @Test
  void loginToAnUnreachableRegistryOrWithoutAPasswordIsAClearError() throws Exception {
    int free;
    try (ServerSocket s = new ServerSocket(0)) {
      free = s.getLocalPort();
    }
    var r = login(USER, PASSWORD, "127.0.0.1:" + free);
    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("cannot reach registry 127.0.0.1:" + free);

    var noUser = inferno.run("login", "--password-stdin", server);
    assertThat(noUser.code()).isEqualTo(1);
    assertThat(noUser.err()).contains("must provide --username with --password-stdin");

    var flag = inferno.run("login", "-u", USER, "-p", "wrong", server);
    assertThat(flag.err())
        .startsWith("WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
        .contains("unauthorized");
  }

  private Inferno.Result login(String user, String password) throws Exception {
    return login(user, password, server);
  }

  /** {@code echo PASSWORD | inferno login -u USER --password-stdin SERVER}. */
  private Inferno.Result login(String user, String password, String to) throws Exception {
    Process p = inferno.spawn("login", "-u", user, "--password-stdin", to);
    p.getOutputStream().write((password + "\n").getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    return Inferno.finish(p, 60);
  }

  private static void sh(String... cmd) throws Exception {
    Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
  }

  private int startRegistry(Path d) throws Exception {
    Files.createDirectories(d);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process h = new ProcessBuilder("htpasswd", "-Bbn", USER, PASSWORD).start();
    String line = new String(h.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(h.waitFor()).isZero();
    Files.writeString(d.resolve("htpasswd"), line + "\n");
    Path config = d.resolve("config.yml");
    Files.writeString(
        config,
        "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
            + "storage:\n  filesystem:\n    rootdirectory: "
            + d.resolve("data")
            + "\nauth:\n  htpasswd:\n    realm: test-realm\n    path: "
            + d.resolve("htpasswd")
            + "\nhttp:\n  addr: 127.0.0.1:"
            + port
            + "\n");
    registry =
        new ProcessBuilder("/usr/bin/docker-registry", "serve", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(d.resolve("registry.log").toFile())
            .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      try {
        var c = URI.create("http://" + "127.0.0.1:" + port + "/v2/").toURL().openConnection();
        c.setConnectTimeout(500);
        int code = ((java.net.HttpURLConnection) c).getResponseCode();
        if (code == 401) {
          return port;
        }
      } catch (IOException notYet) {
        // starting
      }
      assertThat(registry.isAlive()).as("docker-registry exited").isTrue();
      assertThat(System.nanoTime()).as("docker-registry did not answer").isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
