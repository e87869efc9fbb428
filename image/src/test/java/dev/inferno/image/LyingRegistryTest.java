package dev.inferno.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.Credentials;
import dev.inferno.image.registry.DigestMismatchException;
import dev.inferno.image.registry.ManifestException;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.registry.RegistryException;
import dev.inferno.image.testing.FakeRegistry;
import dev.inferno.image.testing.OciLayout;
import dev.inferno.image.testing.TestDatabase;
import dev.inferno.image.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A registry that lies: wrong bytes, short bytes, long bytes, broken connections, redirects. */
class LyingRegistryTest {
  @TempDir static Path shared;
  static FakeRegistry fake;
  static Digest bigLayer;

  @TempDir Path state;
  ImageService images;

  @BeforeAll
  static void start() throws Exception {
    OciLayout layout = TestImages.busyboxLayout(shared.resolve("layout"));
    fake = new FakeRegistry(layout.dir());
    var index = OciLayout.JSON.readTree(layout.dir().resolve("index.json").toFile());
    Digest manifest = Digest.parse(index.path("manifests").get(0).path("digest").asText());
    var m =
        OciLayout.JSON.readTree(layout.dir().resolve("blobs/sha256/" + manifest.hex()).toFile());
    bigLayer = Digest.parse(m.path("layers").get(0).path("digest").asText());
  }

  @AfterAll
  static void stop() {
    fake.close();
  }

  @BeforeEach
  void service() {
    CredentialSource creds =
        domain -> Optional.of(new Credentials("u", "p")); // only the redirect repo asks
    images =
        new ImageService(
            state,
            TestDatabase.migrated(state.resolve("inferno.db")),
            new RegistryClient(creds, Set.of(), Duration.ofMillis(5)));
  }

  String ref(String repo) {
    return fake.hostPort() + "/" + repo + ":1";
  }

  void assertNothingStored() throws Exception {
    assertThat(images.blobs().has(bigLayer)).isFalse();
    assertThat(images.list()).isEmpty();
    try (Stream<Path> s = Files.list(state.resolve("images/tmp"))) {
      assertThat(s).isEmpty();
    }
    try (Stream<Path> s = Files.list(state.resolve("images/disks"))) {
      assertThat(s).isEmpty();
    }
  }

  @Test
  void anHonestRegistryWorks() {
    Image image = images.pull(ref("good"), Platform.DEFAULT, PullProgress.NONE);
    assertThat(images.blobs().has(bigLayer)).isTrue();
    assertThat(image.disk()).isRegularFile();
  }

  @Test
  void aBlobWhoseBytesDoNotMatchItsDigestIsRejectedAndNotStored() throws Exception {
    assertThatThrownBy(() -> images.pull(ref("corrupt"), Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(DigestMismatchException.class)
        .hasMessageContaining(bigLayer.toString());
    assertNothingStored();
  }

  @Test
  void aBlobLongerThanItsDescriptorIsRejected() throws Exception {
    assertThatThrownBy(() -> images.pull(ref("longer"), Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(DigestMismatchException.class)
        .hasMessageContaining("longer than");
    assertNothingStored();
  }

  @Test
  void aTruncatedBlobFailsAfterRetriesAndIsNotStored() throws Exception {
    assertThatThrownBy(() -> images.pull(ref("truncated"), Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("attempts");
    assertThat(fake.hits.get("/v2/truncated/blobs/" + bigLayer).get()).isEqualTo(4);
    assertNothingStored();
  }

  @Test
  void aBrokenDownloadResumesWithARangeRequest() {
    Image image = images.pull(ref("flaky"), Platform.DEFAULT, PullProgress.NONE);
    assertThat(images.blobs().has(bigLayer)).isTrue();
    assertThat(fake.ranges)
        .anySatisfy(r -> assertThat(r).startsWith("bytes=").doesNotStartWith("bytes=0-"));
    assertThat(image.disk()).isRegularFile();
  }

  @Test
  void redirectedBlobsGetNoCredentials() {
    images.pull(ref("redirect"), Platform.DEFAULT, PullProgress.NONE);
    assertThat(fake.storageAuth).isNotEmpty().containsOnly("none");
  }

  @Test
  void aManifestThatDoesNotMatchTheRequestedDigestIsRejected() throws Exception {
    Image good = images.pull(ref("good"), Platform.DEFAULT, PullProgress.NONE);
    String pinned = fake.hostPort() + "/badmanifest@" + good.manifestDigest();
    assertThatThrownBy(() -> images.pull(pinned, Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(DigestMismatchException.class)
        .hasMessageContaining(good.manifestDigest().toString());
  }

  @Test
  void aManifestByTagWhoseBodyIsNotTheDigestItsHeaderNamesIsRejectedAndNothingStored()
      throws Exception {
    Image good = images.pull(ref("good"), Platform.DEFAULT, PullProgress.NONE);
    images.remove(good.id(), img -> false);
    assertNothingStored();
    Digest claimed = good.manifestDigest();
    String served =
        Digest.sha256(
                (new String(
                            Files.readAllBytes(
                                shared.resolve("layout/blobs/sha256/" + claimed.hex())),
                            java.nio.charset.StandardCharsets.UTF_8)
                        + " ")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8))
            .toString();
    assertThatThrownBy(() -> images.pull(ref("liar"), Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(DigestMismatchException.class)
        .hasMessageContaining(claimed.toString())
        .hasMessageContaining(served)
        .hasMessageContaining("Docker-Content-Digest");
    assertNothingStored();
    assertThat(images.blobs().has(claimed)).isFalse();
  }

  @Test
  void aManifestByTagWithoutTheHeaderIsTakenAsServed() {
    Image image = images.pull(ref("quiet"), Platform.DEFAULT, PullProgress.NONE);
    assertThat(image.disk()).isRegularFile();
  }

  @Test
  void schema1IsRefusedWithAClearMessage() {
    assertThatThrownBy(() -> images.pull(ref("schema1"), Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(ManifestException.class)
        .hasMessageContaining("schema 1");
  }

  @Test
  void anUnreachableRegistryIsAClearError() {
    int port = dev.inferno.image.testing.LocalRegistry.freePort();
    assertThatThrownBy(
            () -> images.pull("127.0.0.1:" + port + "/x:1", Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("cannot connect");
  }
}
