package dev.inferno.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.testing.OciLayout;
import dev.inferno.image.testing.TestDatabase;
import dev.inferno.image.testing.TestImages;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code inferno tag} and {@code inferno history} on a store holding two loaded images. */
class TagHistoryTest {
  @TempDir Path tmp;
  ImageService images;
  OciLayout layout;
  ObjectNode app;

  @BeforeEach
  void loadTwoImages() {
    images =
        new ImageService(
            tmp.resolve("state"),
            TestDatabase.migrated(tmp.resolve("inferno.db")),
            new RegistryClient(CredentialSource.NONE, Set.of()));
    layout = new OciLayout(tmp.resolve("layout"));
    ArrayNode history = OciLayout.JSON.createArrayNode();
    history
        .addObject()
        .put("created", "2024-01-01T00:00:00Z")
        .put("created_by", "/bin/sh -c #(nop) ADD file:base in / ");
    history
        .addObject()
        .put("created", "2024-01-01T00:00:01Z")
        .put("created_by", "/bin/sh -c #(nop)  CMD [\"sh\"]")
        .put("empty_layer", true);
    history
        .addObject()
        .put("created", "2024-01-01T00:00:02Z")
        .put("created_by", "RUN /bin/sh -c echo hi > /etc/hi # buildkit")
        .put("comment", "buildkit.dockerfile.v0");
    app =
        layout.image(
            List.of(
                new OciLayout.Layer(TestImages.base(), OciLayout.Compression.GZIP),
                new OciLayout.Layer(TestImages.second(), OciLayout.Compression.NONE)),
            "amd64",
            TestImages.config("/bin/a"),
            history);
    layout.tag("example.com/app:v1", app);
    ObjectNode other =
        layout.image(
            List.of(new OciLayout.Layer(TestImages.base(), OciLayout.Compression.GZIP)),
            "amd64",
            TestImages.config("/bin/o"));
    layout.tag("example.com/other:1", other);
    images.load(layout.dir(), Platform.DEFAULT, PullProgress.NONE);
  }

  private Image find(String name) {
    return images.find(name).orElseThrow();
  }

  @Test
  void tagAddsANormalisedNameByNameIdOrDigest() {
    Image a = find("example.com/app:v1");
    Image tagged = images.tag("example.com/app:v1", "mine");
    assertThat(tagged.manifestDigest()).isEqualTo(a.manifestDigest());
    assertThat(tagged.references())
        .containsExactly("docker.io/library/mine:latest", "example.com/app:v1");
    assertThat(find("mine:latest").manifestDigest()).isEqualTo(a.manifestDigest());

    images.tag(a.id(), "localhost:5000/tools/app:2");
    images.tag(a.manifestDigest().toString(), "example.com/app:v3");
    assertThat(find("sha256:" + a.configDigest().hex()).references())
        .containsExactlyInAnyOrder(
            "docker.io/library/mine:latest",
            "example.com/app:v1",
            "example.com/app:v3",
            "localhost:5000/tools/app:2");
  }

  @Test
  void retagMovesTheNameAndTheOldImageStaysNamelessWhenItWasItsLast() {
    Image other = find("example.com/other:1");
    images.tag("example.com/app:v1", "example.com/other:1");
    assertThat(find("example.com/other:1").manifestDigest())
        .isEqualTo(find("example.com/app:v1").manifestDigest());
    Image dangling = images.find(other.id()).orElseThrow();
    assertThat(dangling.references()).as("docker keeps it as <none>").isEmpty();
    assertThat(images.list()).hasSize(2);

    // and it goes with rmi by ID, as an untagged loaded image does
    Image anchor = find("example.com/app:v1");
    images.remove(other.id(), img -> false);
    assertThat(images.list())
        .extracting(Image::manifestDigest)
        .containsExactly(anchor.manifestDigest());
  }

  @Test
  void removingOneOfTwoNamesKeepsTheImage() {
    images.tag("example.com/app:v1", "example.com/app:v2");
    ImageService.Removed r = images.remove("example.com/app:v1", img -> true);
    assertThat(r.untagged()).containsExactly("example.com/app:v1");
    assertThat(r.deleted()).isEmpty();
    assertThat(find("example.com/app:v2").references()).containsExactly("example.com/app:v2");
  }

  @Test
  void refusesADigestTargetAnInvalidOneAndAnUnknownSource() {
    Image a = find("example.com/app:v1");
    assertThatThrownBy(() -> images.tag("example.com/app:v1", "x@" + a.manifestDigest()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("refusing to create a tag with a digest reference");
    assertThatThrownBy(() -> images.tag("example.com/app:v1", "Bad/Name"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid reference format: Bad/Name");
    assertThatThrownBy(() -> images.tag("nope:1", "x"))
        .isInstanceOf(ImageException.NotFound.class)
        .hasMessageContaining("no such image: nope:1");
    assertThat(find("example.com/app:v1").references()).containsExactly("example.com/app:v1");
  }

  @Test
  void historyPairsTheConfigsStepsWithTheManifestsLayers() throws Exception {
    List<ImageHistory.Entry> h = images.history("example.com/app:v1");
    var manifest =
        OciLayout.JSON.readTree(
            java.nio.file.Files.readAllBytes(
                layout.dir().resolve("blobs/sha256/" + app.get("digest").asText().substring(7))));
    long base = manifest.path("layers").get(0).path("size").asLong();
    long second = manifest.path("layers").get(1).path("size").asLong();
    assertThat(base).isNotEqualTo(second);
    assertThat(h)
        .containsExactly(
            new ImageHistory.Entry(
                Instant.parse("2024-01-01T00:00:00Z"),
                "/bin/sh -c #(nop) ADD file:base in / ",
                "",
                false,
                base),
            new ImageHistory.Entry(
                Instant.parse("2024-01-01T00:00:01Z"),
                "/bin/sh -c #(nop)  CMD [\"sh\"]",
                "",
                true,
                0),
            new ImageHistory.Entry(
                Instant.parse("2024-01-01T00:00:02Z"),
                "RUN /bin/sh -c echo hi > /etc/hi # buildkit",
                "buildkit.dockerfile.v0",
                false,
                second));
  }

  @Test
  void historyWithoutStepsIsOneEntryPerLayer() {
    List<ImageHistory.Entry> h = images.history("example.com/other:1");
    assertThat(h).hasSize(1);
    assertThat(h.getFirst().created()).isEqualTo(Instant.parse("2024-01-02T03:04:05Z"));
    assertThat(h.getFirst().size()).isPositive();
    assertThatThrownBy(() -> images.history("nope")).isInstanceOf(ImageException.NotFound.class);
  }
}
