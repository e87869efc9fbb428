package dev.inferno.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.Credentials;
import dev.inferno.image.registry.DockerConfigCredentials;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.registry.RegistryException;
import dev.inferno.image.testing.DiskTree;
import dev.inferno.image.testing.LocalRegistry;
import dev.inferno.image.testing.OciLayout;
import dev.inferno.image.testing.TestDatabase;
import dev.inferno.image.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Basic (htpasswd) and Bearer token auth against the real docker-registry. */
class RegistryAuthTest {
  @TempDir static Path shared;
  static LocalRegistry basic;
  static LocalRegistry token;

  @TempDir Path state;

  @BeforeAll
  static void start() throws Exception {
    OciLayout layout = TestImages.busyboxLayout(shared.resolve("layout"));
    basic = LocalRegistry.start(shared.resolve("basic"), LocalRegistry.Auth.BASIC);
    token = LocalRegistry.start(shared.resolve("token"), LocalRegistry.Auth.TOKEN);
    basic.push(layout.dir(), "1", "private/busybox");
    token.push(layout.dir(), "1", "private/busybox");
  }

  @AfterAll
  static void stop() {
    if (basic != null) {
      basic.close();
    }
    if (token != null) {
      token.close();
    }
  }

  ImageService service(CredentialSource creds) {
    return new ImageService(
        state,
        TestDatabase.migrated(state.resolve("inferno.db")),
        new RegistryClient(creds, Set.of()));
  }

  static CredentialSource creds(String user, String password) {
    return domain -> Optional.of(new Credentials(user, password));
  }

  @Test
  void basicAuthWithTheRightCredentialsPulls() {
    ImageService images = service(creds(LocalRegistry.USER, LocalRegistry.PASSWORD));
    Image image =
        images.pull(basic.hostPort() + "/private/busybox:1", Platform.DEFAULT, PullProgress.NONE);
    assertThat(new DiskTree(image.disk()).cat("/arch")).isEqualTo("amd64\n");
  }

  @Test
  void basicAuthWithBadOrNoCredentialsIsAClearError() {
    String ref = basic.hostPort() + "/private/busybox:1";
    assertThatThrownBy(() ->
            service(creds(LocalRegistry.USER, "wrong"))
                .pull(ref, Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("rejected the credentials")
        .hasMessageContaining("inferno login " + basic.hostPort());
    assertThatThrownBy(
            () -> service(CredentialSource.NONE).pull(ref, Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("authentication required");
  }

  @Test
  void credentialsComeFromADockerConfigFile() throws Exception {
    Path config = state.resolve("docker/config.json");
    Files.createDirectories(config.getParent());
    String auth =
        Base64.getEncoder()
            .encodeToString(
                (LocalRegistry.USER + ":" + LocalRegistry.PASSWORD)
                    .getBytes(StandardCharsets.UTF_8));
    Files.writeString(
        config, "{\"auths\":{\"" + basic.hostPort() + "\":{\"auth\":\"" + auth + "\"}}}");
    ImageService images = service(new DockerConfigCredentials(config));
    assertThat(
            images
                .pull(basic.hostPort() + "/private/busybox:1", Platform.DEFAULT, PullProgress.NONE)
                .disk())
        .isRegularFile();
  }

  @Test
  void credentialHelpersAreAskedThroughDockerCredentialGet() throws Exception {
    Path bin = Files.createDirectories(state.resolve("bin"));
    Path asked = state.resolve("asked");
    Path helper = bin.resolve("docker-credential-test");
    // a credential helper speaks JSON on stdout for the server URL it reads on stdin
    Files.writeString(
        helper,
        "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\necho \"$server\" > "
            + asked
            + "\nprintf '{\"ServerURL\":\"%s\",\"Username\":\""
            + LocalRegistry.USER
            + "\",\"Secret\":\""
            + LocalRegistry.PASSWORD
            + "\"}' \"$server\"\n");
    Files.setPosixFilePermissions(
        helper, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Path config = state.resolve("helper-config.json");
    Files.writeString(config, "{\"credHelpers\":{\"" + basic.hostPort() + "\":\"test\"}}");
    ImageService images = service(new DockerConfigCredentials(config, bin));
    assertThat(
            images
                .pull(basic.hostPort() + "/private/busybox:1", Platform.DEFAULT, PullProgress.NONE)
                .disk())
        .isRegularFile();
    assertThat(Files.readString(asked).strip()).isEqualTo(basic.hostPort());
    // credsStore: the same helper for every registry
    Files.writeString(config, "{\"credsStore\":\"test\"}");
    assertThat(new DockerConfigCredentials(config, bin).lookup(basic.hostPort()))
        .contains(new Credentials(LocalRegistry.USER, LocalRegistry.PASSWORD));
  }

  @Test
  void loginStoresCredentialsThatPullsThenUse() throws Exception {
    Path config = state.resolve("auth/config.json");
    DockerConfigCredentials store = new DockerConfigCredentials(config);
    store.store("other.example", new Credentials("x", "y"));
    store.store(basic.hostPort(), new Credentials(LocalRegistry.USER, LocalRegistry.PASSWORD));
    assertThat(Files.getPosixFilePermissions(config))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    assertThat(store.lookup("other.example")).contains(new Credentials("x", "y"));
    ImageService images = service(store);
    assertThat(
            images
                .pull(basic.hostPort() + "/private/busybox:1", Platform.DEFAULT, PullProgress.NONE)
                .disk())
        .isRegularFile();
    assertThat(store.erase(basic.hostPort())).isTrue();
    assertThat(store.lookup(basic.hostPort())).isEmpty();
    assertThat(store.lookup("other.example")).isPresent();
  }

  @Test
  void bearerTokenFlowGetsOneTokenPerScopeAndReusesIt() {
    int before = token.tokens().issued.get();
    ImageService images = service(creds(LocalRegistry.USER, LocalRegistry.PASSWORD));
    Image image =
        images.pull(token.hostPort() + "/private/busybox:1", Platform.DEFAULT, PullProgress.NONE);
    assertThat(new DiskTree(image.disk()).ls("/opq").keySet()).containsExactly("c");
    assertThat(token.tokens().issued.get() - before).isEqualTo(1);
    images.pull(token.hostPort() + "/private/busybox:1", Platform.DEFAULT, PullProgress.NONE);
    assertThat(token.tokens().issued.get() - before).isEqualTo(1);
  }

  @Test
  void bearerTokenFlowWithBadOrNoCredentialsIsAClearError() {
    String ref = token.hostPort() + "/private/busybox:1";
    assertThatThrownBy(() ->
            service(creds(LocalRegistry.USER, "wrong"))
                .pull(ref, Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("refused the credentials");
    // anonymous: the token server hands out a token that grants nothing; the registry says no
    assertThatThrownBy(
            () -> service(CredentialSource.NONE).pull(ref, Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("authentication required");
  }

  @Test
  void checkLoginAcceptsGoodAndRejectsBadCredentialsWithBasicAuth() {
    RegistryClient client = new RegistryClient(CredentialSource.NONE, Set.of());
    client.checkLogin(
        basic.hostPort(), new Credentials(LocalRegistry.USER, LocalRegistry.PASSWORD));
    assertThatThrownBy(
            () -> client.checkLogin(basic.hostPort(), new Credentials(LocalRegistry.USER, "wrong")))
        .isInstanceOf(RegistryException.class)
        .hasMessage(
            "login to "
                + basic.hostPort()
                + " failed: unauthorized: check the user name and password")
        .extracting(e -> ((RegistryException) e).status())
        .isEqualTo(401);
    assertThatThrownBy(
            () -> client.checkLogin(basic.hostPort(), new Credentials("mallory", "s3cret-pw")))
        .hasMessageContaining("unauthorized");
  }

  @Test
  void checkLoginAcceptsGoodAndRejectsBadCredentialsWithTokenAuth() {
    RegistryClient client = new RegistryClient(CredentialSource.NONE, Set.of());
    client.checkLogin(
        token.hostPort(), new Credentials(LocalRegistry.USER, LocalRegistry.PASSWORD));
    assertThatThrownBy(
            () -> client.checkLogin(token.hostPort(), new Credentials(LocalRegistry.USER, "wrong")))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("unauthorized: check the user name and password");
  }

  @Test
  void checkLoginToAnUnreachableRegistryIsAClearError() {
    String nobody = "127.0.0.1:" + LocalRegistry.freePort();
    assertThatThrownBy(() ->
            new RegistryClient(CredentialSource.NONE, Set.of())
                .checkLogin(nobody, new Credentials("a", "b")))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("cannot reach registry " + nobody)
        .extracting(e -> ((RegistryException) e).status())
        .isEqualTo(0);
  }
}
