package dev.inferno.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.testing.DiskTree;
import dev.inferno.image.testing.OciLayout;
import dev.inferno.image.testing.Proc;
import dev.inferno.image.testing.TestDatabase;
import dev.inferno.image.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code inferno save}: the archive a fresh store loads back as the same images. */
class SaveTest {
  @TempDir Path tmp;
  ImageService images;
  Image app;
  Image other;

  @BeforeEach
  void loadTwoImages() {
    images = service(tmp.resolve("state"), tmp.resolve("inferno.db"));
    // app (gzip, zstd and plain layers) under two tags, other (gzip) under one
    OciLayout layout = new OciLayout(tmp.resolve("layout"));
    ObjectNode a = layout.image(TestImages.layers("amd64"), "amd64", TestImages.config("/bin/a"));
    ObjectNode o =
        layout.image(
            List.of(new OciLayout.Layer(TestImages.base(), OciLayout.Compression.GZIP)),
            "amd64",
            TestImages.config("/bin/o"));
    ObjectNode index = OciLayout.JSON.createObjectNode();
    index.put("schemaVersion", 2);
    ArrayNode ms = index.putArray("manifests");
    ms.add(named(a, "example.com/app:v1"));
    ms.add(named(a, "example.com/app:v2"));
    ms.add(named(o, "example.com/other:1"));
    write(layout.dir().resolve("index.json"), OciLayout.bytes(index));
    images.load(layout.dir(), Platform.DEFAULT, PullProgress.NONE);
    app = images.find("example.com/app:v1").orElseThrow();
    other = images.find("example.com/other:1").orElseThrow();
    assertThat(app.references())
        .as("both tags name one image")
        .containsExactly("example.com/app:v1", "example.com/app:v2");
  }

  private static ObjectNode named(ObjectNode desc, String name) {
    ObjectNode d = desc.deepCopy();
    d.remove("platform");
    d.putObject("annotations").put("io.containerd.image.name", name);
    return d;
  }

  private ImageService service(Path state, Path db) {
    return new ImageService(
        state, TestDatabase.migrated(db), new RegistryClient(CredentialSource.NONE, Set.of()));
  }

  private Path save(String name, String... refs) throws IOException {
    Path tar = tmp.resolve(name);
    try (OutputStream out = Files.newOutputStream(tar)) {
      images.save(List.of(refs), out);
    }
    return tar;
  }

  @Test
  void aFreshStoreLoadsTheArchiveAsTheSameImagesUnderTheSameTags() throws Exception {
    Path tar = save("all.tar", "example.com/app:v1", "example.com/app:v2", "example.com/other:1");
    Map<String, byte[]> entries = entries(tar);
    assertThat(entries)
        .containsKeys("oci-layout", "index.json", "manifest.json", "repositories", "blobs/");

    JsonNode index = OciLayout.JSON.readTree(entries.get("index.json"));
    assertThat(index.get("mediaType").asText())
        .isEqualTo("application/vnd.oci.image.index.v1+json");
    List<String> names = new ArrayList<>();
    for (JsonNode d : index.get("manifests")) {
      names.add(d.at("/annotations/io.containerd.image.name").asText());
      assertThat(d.at("/annotations/org.opencontainers.image.ref.name").asText())
          .isEqualTo(names.getLast().substring(names.getLast().lastIndexOf(':') + 1));
    }
    assertThat(names)
        .containsExactly("example.com/app:v1", "example.com/app:v2", "example.com/other:1");
    JsonNode manifest = OciLayout.JSON.readTree(entries.get("manifest.json"));
    assertThat(manifest).hasSize(2);
    assertThat(manifest.get(0).get("RepoTags").toString())
        .isEqualTo("[\"example.com/app:v1\",\"example.com/app:v2\"]");
    assertThat(manifest.get(0).get("Config").asText())
        .isEqualTo("blobs/sha256/" + app.configDigest().hex());
    assertThat(manifest.get(0).get("Layers")).hasSize(3);
    for (JsonNode l : manifest.get(0).get("Layers")) {
      assertThat(entries).containsKey(l.asText());
    }
    JsonNode repos = OciLayout.JSON.readTree(entries.get("repositories"));
    assertThat(repos.get("example.com/app").properties()).hasSize(2);

    Path fresh = tmp.resolve("fresh");
    ImageService other2 = service(fresh.resolve("state"), fresh.resolve("inferno.db"));
    List<Image> loaded = other2.load(tar, Platform.DEFAULT, PullProgress.NONE);
    assertThat(loaded).hasSize(3);
    Image back = other2.find("example.com/app:v2").orElseThrow();
    assertThat(back.manifestDigest()).isEqualTo(app.manifestDigest());
    assertThat(back.configDigest()).isEqualTo(app.configDigest());
    assertThat(back.references()).isEqualTo(app.references());
    assertThat(back.config()).isEqualTo(app.config());
    assertThat(new DiskTree(back.disk()).cat("/arch")).isEqualTo("amd64\n");
    Image otherBack = other2.find("example.com/other:1").orElseThrow();
    assertThat(otherBack.manifestDigest()).isEqualTo(other.manifestDigest());

    // the same images give the same bytes
    assertThat(
            Files.readAllBytes(
                save(
                    "again.tar",
                    "example.com/app:v1",
                    "example.com/app:v2",
                    "example.com/other:1")))
        .isEqualTo(Files.readAllBytes(tar));
  }

  @Test
  void twoNamesForOneImageShareItsBlobs() throws Exception {
    Path tar = save("shared.tar", "example.com/app:v1", "example.com/app:v2");
    List<String> names = new ArrayList<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
      for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        names.add(e.getName());
      }
    }
    List<String> blobs =
        names.stream().filter(n -> n.startsWith("blobs/sha256/") && n.length() > 13).toList();
    // manifest, config and three layers, each once
    assertThat(blobs).hasSize(5).doesNotHaveDuplicates();
    assertThat(OciLayout.JSON.readTree(entries(tar).get("manifest.json"))).hasSize(1);
  }

  @Test
  void docker25sManifestJsonAloneLoadsTheSameImage() throws Exception {
    // a reader of the older layout (no index.json) finds Config and Layers by their paths
    Path tar = save("legacy.tar", "example.com/other:1");
    Path dir = Files.createDirectories(tmp.resolve("legacy"));
    Proc.run("tar", "-C", dir.toString(), "-xf", tar.toString());
    Files.delete(dir.resolve("index.json"));
    Path fresh = tmp.resolve("fresh");
    ImageService other2 = service(fresh.resolve("state"), fresh.resolve("inferno.db"));
    Image back =
        other2.load(dir, Platform.DEFAULT, PullProgress.NONE).stream().findFirst().orElseThrow();
    assertThat(back.references()).containsExactly("example.com/other:1");
    assertThat(back.configDigest()).isEqualTo(other.configDigest());
  }

  @Test
  void anImageSavedByDigestOrIdHasNoTags() throws Exception {
    Path tar = save("untagged.tar", "example.com/app@" + app.manifestDigest(), app.id());
    Map<String, byte[]> entries = entries(tar);
    JsonNode index = OciLayout.JSON.readTree(entries.get("index.json"));
    assertThat(index.get("manifests"))
        .singleElement()
        .satisfies(d -> assertThat(d.has("annotations")).isFalse());
    assertThat(
            OciLayout.JSON.readTree(entries.get("manifest.json")).get(0).get("RepoTags").isNull())
        .isTrue();
    assertThat(entries).doesNotContainKey("repositories");

    Path fresh = tmp.resolve("fresh");
    ImageService other2 = service(fresh.resolve("state"), fresh.resolve("inferno.db"));
    Image back =
        other2.load(tar, Platform.DEFAULT, PullProgress.NONE).stream().findFirst().orElseThrow();
    assertThat(back.references()).isEmpty();
    assertThat(back.manifestDigest()).isEqualTo(app.manifestDigest());
  }

  @Test
  void anUnknownImageFailsWithNothingWritten() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThatThrownBy(() -> images.save(List.of("example.com/app:v1", "nope:1"), out))
        .isInstanceOf(ImageException.NotFound.class)
        .hasMessage("no such image: nope:1 (see inferno images)");
    assertThat(out.size()).isZero();
  }

  @Test
  void anImageWhoseBlobIsMissingFailsWithNothingWritten() throws Exception {
    String layer =
        OciLayout.JSON
            .readTree(entries(save("ok.tar", "example.com/other:1")).get("manifest.json"))
            .get(0)
            .get("Layers")
            .get(0)
            .asText();
    Files.delete(tmp.resolve("state/images").resolve(layer));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThatThrownBy(() -> images.save(List.of("example.com/other:1"), out))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("cannot save image example.com/other:1: its blob sha256:")
        .hasMessageContaining("is missing from the image store");
    assertThat(out.size()).isZero();
  }

  private static Map<String, byte[]> entries(Path tar) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (InputStream raw = Files.newInputStream(tar);
        TarArchiveInputStream in = new TarArchiveInputStream(raw)) {
      for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        out.put(e.getName(), in.readAllBytes());
      }
    }
    return out;
  }

  private static void write(Path p, byte[] bytes) {
    try {
      Files.write(p, bytes);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
