package dev.inferno.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.testing.DiskTree;
import dev.inferno.image.testing.OciLayout;
import dev.inferno.image.testing.Proc;
import dev.inferno.image.testing.TarBuilder;
import dev.inferno.image.testing.TestDatabase;
import dev.inferno.image.testing.TestImages;
import dev.inferno.image.unpack.LayerRejectedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code inferno load}: OCI layouts (dir and tar) and {@code docker save} archives. */
class LoadTest {
  @TempDir Path tmp;
  ImageService images;

  @BeforeEach
  void service() {
    Path state = tmp.resolve("state");
    images =
        new ImageService(
            state,
            TestDatabase.migrated(tmp.resolve("inferno.db")),
            new RegistryClient(CredentialSource.NONE, Set.of()));
  }

  @Test
  void loadsAnOciLayoutDirectory() {
    OciLayout layout = TestImages.busyboxLayout(tmp.resolve("layout"));
    ObjectNode named =
        layout.image(TestImages.layers("amd64"), "amd64", TestImages.config("/bin/true"));
    ObjectNode d = named.deepCopy();
    d.remove("platform");
    d.putObject("annotations").put("io.containerd.image.name", "example.com/app:v1");
    rewriteIndexAdding(layout.dir(), d);

    List<Image> loaded = images.load(layout.dir(), Platform.DEFAULT, PullProgress.NONE);
    assertThat(loaded).hasSize(4); // tags 1, multi (→ amd64, same as 1), gzip, and the named one
    assertThat(images.list()).hasSize(3);
    Image app = images.find("example.com/app:v1").orElseThrow();
    assertThat(app.config().get("Cmd").get(0).asText()).isEqualTo("/bin/true");
    assertThat(new DiskTree(app.disk()).cat("/etc/hostname")).isEqualTo("inferno\n");

    // what disk usage measures: each image's disk and blobs, a layer two images keep counted twice
    var files = images.files();
    assertThat(files).hasSize(3);
    for (Image i : images.list()) {
      assertThat(files.get(i.manifestDigest()))
          .contains(i.disk(), images.blobs().path(i.manifestDigest()))
          .contains(images.blobs().path(i.configDigest()))
          .allMatch(java.nio.file.Files::isRegularFile);
    }
    assertThat(files.values().stream().flatMap(Set::stream).distinct().count())
        .isLessThan(files.values().stream().mapToLong(Set::size).sum()); // shared layers
  }

  private static void rewriteIndexAdding(Path dir, ObjectNode desc) {
    try {
      JsonNode index = OciLayout.JSON.readTree(dir.resolve("index.json").toFile());
      ((com.fasterxml.jackson.databind.node.ArrayNode) index.get("manifests")).add(desc);
      Files.write(dir.resolve("index.json"), OciLayout.bytes(index));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void loadsAnOciLayoutTar() throws Exception {
    // (the daemon spools an uploaded stream to a file first: ImageModuleBackendTest)
    OciLayout layout = TestImages.busyboxLayout(tmp.resolve("layout"));
    Path tar = tmp.resolve("image.tar");
    Proc.run("tar", "-C", layout.dir().toString(), "-cf", tar.toString(), ".");
    List<Image> loaded = images.load(tar, Platform.DEFAULT, PullProgress.NONE);
    assertThat(loaded).isNotEmpty();
    try (var scratch = Files.list(tmp.resolve("state/images/tmp"))) {
      assertThat(scratch).as("the unpacked archive is gone").isEmpty();
    }
    assertThat(new DiskTree(loaded.getFirst().disk()).cat("/arch")).isEqualTo("amd64\n");
  }

  @Test
  void loadsADockerSaveArchive() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("save"));
    ObjectNode cfg = OciLayout.JSON.createObjectNode();
    cfg.put("architecture", "amd64");
    cfg.put("os", "linux");
    cfg.set("config", TestImages.config("/bin/sh", "-c", "echo saved"));
    var diffIds = cfg.putObject("rootfs").put("type", "layers").putArray("diff_ids");
    var layers = OciLayout.JSON.createArrayNode();
    int i = 0;
    for (byte[] layer : List.of(TestImages.base(), TestImages.second())) {
      Path p = Files.createDirectories(dir.resolve("l" + i)).resolve("layer.tar");
      Files.write(p, layer);
      diffIds.add(dev.inferno.image.ref.Digest.sha256(layer).toString());
      layers.add("l" + i + "/layer.tar");
      i++;
    }
    byte[] cfgBytes = OciLayout.bytes(cfg);
    String cfgName = dev.inferno.image.ref.Digest.sha256(cfgBytes).hex() + ".json";
    Files.write(dir.resolve(cfgName), cfgBytes);
    ObjectNode entry = OciLayout.JSON.createObjectNode();
    entry.put("Config", cfgName);
    entry.putArray("RepoTags").add("busybox:saved");
    entry.set("Layers", layers);
    Files.write(dir.resolve("manifest.json"), OciLayout.bytes(List.of(entry)));
    Path tar = tmp.resolve("save.tar");
    Proc.run("tar", "-C", dir.toString(), "-cf", tar.toString(), ".");

    List<Image> loaded = images.load(tar, Platform.DEFAULT, PullProgress.NONE);
    assertThat(loaded)
        .singleElement()
        .satisfies(
            img -> assertThat(img.references()).containsExactly("docker.io/library/busybox:saved"));
    Image image = images.find("busybox:saved").orElseThrow();
    assertThat(image.config().get("Cmd").get(2).asText()).isEqualTo("echo saved");
    DiskTree disk = new DiskTree(image.disk());
    assertThat(disk.ls("/opq").keySet()).containsExactly("c");
    assertThat(disk.ls("/").keySet()).doesNotContain("gone", "remove-me");
  }

  @Test
  void aHostileArchiveIsRejected() throws Exception {
    Path tar = tmp.resolve("evil.tar");
    Files.write(tar, new TarBuilder().file("../../evil", 0644, "x").build());
    assertThatThrownBy(() -> images.load(tar, Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(LayerRejectedException.class);
    assertThat(tmp.getParent().resolve("evil")).doesNotExist();
  }

  @Test
  void aLayoutWithABlobThatDoesNotMatchItsNameIsRejected() throws Exception {
    OciLayout layout = TestImages.busyboxLayout(tmp.resolve("layout"));
    Path blobs = layout.dir().resolve("blobs/sha256");
    try (var s = Files.list(blobs)) {
      for (Path p : s.toList()) {
        if (Files.size(p) > 100_000) {
          byte[] b = Files.readAllBytes(p);
          b[100] ^= 1;
          Files.write(p, b);
        }
      }
    }
    assertThatThrownBy(() -> images.load(layout.dir(), Platform.DEFAULT, PullProgress.NONE))
        .hasMessageContaining("does not match");
    assertThat(images.list()).isEmpty();
  }
}
