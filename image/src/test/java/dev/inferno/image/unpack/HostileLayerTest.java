package dev.inferno.image.unpack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.image.testing.OciLayout;
import dev.inferno.image.testing.TarBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layers that try to get out of the image root. Each test has a canary directory next to the root;
 * afterwards it must hold exactly what it held before.
 */
class HostileLayerTest {
  @TempDir Path tmp;
  Path root;
  Path outside;
  Path secret;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectory(tmp.resolve("root"));
    outside = Files.createDirectory(tmp.resolve("outside"));
    secret = Files.writeString(outside.resolve("secret"), "keep me\n");
  }

  LayerUnpacker.Stats apply(byte[] tar) throws IOException {
    return new LayerUnpacker(root, LayerUnpacker.Limits.DEFAULT)
        .apply(new ByteArrayInputStream(tar));
  }

  void assertOutsideUntouched() throws IOException {
    try (Stream<Path> s = Files.list(outside)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("secret");
    }
    assertThat(Files.readString(secret)).isEqualTo("keep me\n");
    assertThat(Files.getAttribute(secret, "unix:nlink")).isEqualTo(1);
    try (Stream<Path> s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("root", "outside");
    }
  }

  @Test
  void dotDotThatClimbsOutIsRejected() throws IOException {
    byte[] tar = new TarBuilder().file("../outside/pwned", 0644, "x").build();
    assertThatThrownBy(() -> apply(tar))
        .isInstanceOf(LayerRejectedException.class)
        .hasMessageContaining("..");
    byte[] deep = new TarBuilder().file("a/b/../../../outside/pwned", 0644, "x").build();
    assertThatThrownBy(() -> apply(deep)).isInstanceOf(LayerRejectedException.class);
    assertOutsideUntouched();
  }

  @Test
  void dotDotThatStaysInsideIsFine() throws IOException {
    apply(new TarBuilder().file("a/../b", 0644, "x").build());
    assertThat(root.resolve("b")).hasContent("x");
  }

  @Test
  void absolutePathsLandInsideTheRoot() throws IOException {
    String abs = outside.resolve("pwned").toString(); // "/tmp/.../outside/pwned"
    apply(new TarBuilder().file(abs, 0644, "x").build());
    assertThat(root.resolve(abs.substring(1))).hasContent("x");
    assertOutsideUntouched();
  }

  @Test
  void anAbsoluteSymlinkedParentIsResolvedInsideTheRoot() throws IOException {
    byte[] tar =
        new TarBuilder().symlink("evil", outside.toString()).file("evil/pwned", 0644, "x").build();
    apply(tar);
    assertThat(root.resolve(outside.toString().substring(1)).resolve("pwned")).hasContent("x");
    assertThat(Files.readSymbolicLink(root.resolve("evil")).toString())
        .isEqualTo(outside.toString());
    assertOutsideUntouched();
  }

  @Test
  void aRelativeSymlinkedParentCannotClimbOut() throws IOException {
    byte[] tar =
        new TarBuilder()
            .dir("d", 0755)
            .symlink("d/up", "../../../../../../..")
            .file("d/up/outside/pwned", 0644, "x")
            .build();
    apply(tar);
    assertThat(root.resolve("outside/pwned")).hasContent("x");
    assertOutsideUntouched();
  }

  @Test
  void aDirectoryReplacedByASymlinkInALaterLayerStaysContained() throws IOException {
    apply(new TarBuilder().dir("d", 0755).file("d/f", 0644, "lower").build());
    apply(new TarBuilder().symlink("d", outside.toString()).build());
    apply(new TarBuilder().file("d/secret", 0644, "overwritten?").build());
    assertOutsideUntouched();
    assertThat(root.resolve(outside.toString().substring(1)).resolve("secret"))
        .hasContent("overwritten?");
  }

  @Test
  void anExistingSymlinkIsReplacedNotWrittenThrough() throws IOException {
    Object outsideMode = Files.getAttribute(outside, "unix:mode");
    apply(new TarBuilder().symlink("f", secret.toString()).build());
    apply(new TarBuilder().file("f", 0644, "new").build());
    assertThat(Files.isSymbolicLink(root.resolve("f"))).isFalse();
    assertThat(root.resolve("f")).hasContent("new");
    // and a directory entry over a symlink does not chmod the target
    apply(new TarBuilder().symlink("g", outside.toString()).dir("g", 0700).build());
    assertThat(Files.isDirectory(root.resolve("g"), LinkOption.NOFOLLOW_LINKS)).isTrue();
    assertThat(Files.getAttribute(outside, "unix:mode")).isEqualTo(outsideMode);
    assertOutsideUntouched();
  }

  @Test
  void hardLinksToOutsideAreRejected() throws IOException {
    byte[] up = new TarBuilder().hardlink("hl", "../outside/secret").build();
    assertThatThrownBy(() -> apply(up)).isInstanceOf(LayerRejectedException.class);
    byte[] abs = new TarBuilder().hardlink("hl", secret.toString()).build();
    assertThatThrownBy(() -> apply(abs))
        .isInstanceOf(LayerRejectedException.class)
        .hasMessageContaining("does not exist in the image");
    byte[] viaLink =
        new TarBuilder().symlink("evil", outside.toString()).hardlink("hl", "evil/secret").build();
    assertThatThrownBy(() -> apply(viaLink)).isInstanceOf(LayerRejectedException.class);
    assertOutsideUntouched();
  }

  @Test
  void aHardLinkToASymlinkLinksTheSymlinkItself() throws IOException {
    apply(new TarBuilder().symlink("s", secret.toString()).hardlink("hl", "s").build());
    assertThat(Files.isSymbolicLink(root.resolve("hl"))).isTrue();
    assertOutsideUntouched();
  }

  @Test
  void whiteoutsCannotDeleteOutside() throws IOException {
    byte[] up = new TarBuilder().whiteout("../outside/secret").build();
    assertThatThrownBy(() -> apply(up)).isInstanceOf(LayerRejectedException.class);
    apply(new TarBuilder().symlink("evil", outside.toString()).build());
    apply(new TarBuilder().whiteout("evil/secret").build());
    apply(new TarBuilder().opaque("evil").build());
    byte[] dots = new TarBuilder().file("x/.wh...", 0, "").build();
    assertThatThrownBy(() -> apply(dots)).isInstanceOf(LayerRejectedException.class);
    assertOutsideUntouched();
  }

  @Test
  void enormousEntryCountsAreRejected() {
    TarBuilder b = new TarBuilder();
    for (int i = 0; i < 1001; i++) {
      b.file("f" + i, 0644, "");
    }
    byte[] tar = b.build();
    assertThatThrownBy(() ->
            new LayerUnpacker(root, new LayerUnpacker.Limits(1000, 1 << 30))
                .apply(new ByteArrayInputStream(tar)))
        .isInstanceOf(LayerRejectedException.class)
        .hasMessageContaining("1000 entries");
  }

  @Test
  void tooManyBytesAreRejected() {
    byte[] tar = new TarBuilder().file("big", 0644, "x".repeat(5000)).build();
    assertThatThrownBy(() ->
            new LayerUnpacker(root, new LayerUnpacker.Limits(100, 4096))
                .apply(new ByteArrayInputStream(tar)))
        .isInstanceOf(LayerRejectedException.class)
        .hasMessageContaining("bytes");
  }

  @Test
  void symlinkLoopsInParentsAreRejected() {
    byte[] tar = new TarBuilder().symlink("a", "b").symlink("b", "a").file("a/x", 0644, "").build();
    assertThatThrownBy(() -> apply(tar))
        .isInstanceOf(LayerRejectedException.class)
        .hasMessageContaining("symlinks");
  }

  @Test
  void gzipZstdAndPlainLayersAllUnpack() throws IOException {
    byte[] tar = new TarBuilder().file("f", 0640, "hello").build();
    for (OciLayout.Compression c : OciLayout.Compression.values()) {
      Path r = Files.createDirectory(tmp.resolve("r-" + c));
      new LayerUnpacker(r, LayerUnpacker.Limits.DEFAULT)
          .apply(new ByteArrayInputStream(OciLayout.compress(tar, c)));
      assertThat(r.resolve("f")).hasContent("hello");
      assertThat(Files.getAttribute(r.resolve("f"), "unix:mode")).isEqualTo(0100640);
    }
  }

  @Test
  void aLayerWhoseContentDoesNotMatchItsDiffIdIsRejected() {
    byte[] tar = new TarBuilder().file("f", 0644, "hello").build();
    var wrong = dev.inferno.image.ref.Digest.sha256("other".getBytes());
    assertThatThrownBy(() ->
            new LayerUnpacker(root, LayerUnpacker.Limits.DEFAULT)
                .apply(new ByteArrayInputStream(tar), wrong))
        .isInstanceOf(LayerRejectedException.class)
        .hasMessageContaining("diff_id");
  }

  @Test
  void whiteoutsHideLowerLayersButNotTheirOwn() throws IOException {
    apply(
        new TarBuilder()
            .file("d/old", 0644, "1")
            .file("keep", 0644, "k")
            .file("x", 0644, "lower")
            .build());
    apply(
        new TarBuilder()
            .file("d/new", 0644, "2")
            .opaque("d")
            .file("x", 0644, "upper")
            .whiteout("x")
            .build());
    try (Stream<Path> s = Files.list(root.resolve("d"))) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("new");
    }
    assertThat(root.resolve("x")).hasContent("upper");
    assertThat(root.resolve("keep")).hasContent("k");
  }
}
