package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The image side's progress as dockerd's pull stream. */
class DockerPullProgressTest {
  final List<ImageShapes.Progress> lines = new ArrayList<>();
  final DockerPullProgress p = new DockerPullProgress("library/busybox", "latest", lines::add);

  @Test
  void headlineFirstThenEachLayerStartsWithPullingFsLayer() {
    p.progress("Pulling docker.io/library/busybox:latest (2 layers)", null, -1, -1);
    p.progress("Waiting", "aaa", -1, -1);
    p.progress("Already exists", "bbb", -1, -1);
    p.progress("Downloading", "aaa", 10, 100);
    p.progress("Download complete", "aaa", -1, -1);
    p.progress("Extracting", "aaa", 50, 100);
    p.progress("Pull complete", "aaa", 100, 100);
    p.progress("Building image disk", null, -1, -1);
    assertThat(lines)
        .containsExactly(
            new ImageShapes.Progress("Pulling from library/busybox", "latest", null),
            new ImageShapes.Progress("Pulling fs layer", "aaa", empty()),
            new ImageShapes.Progress("Waiting", "aaa", empty()),
            new ImageShapes.Progress("Already exists", "bbb", empty()),
            new ImageShapes.Progress(
                "Downloading", "aaa", new ImageShapes.ProgressDetail(10L, 100L)),
            new ImageShapes.Progress("Download complete", "aaa", empty()),
            new ImageShapes.Progress(
                "Extracting", "aaa", new ImageShapes.ProgressDetail(50L, 100L)),
            new ImageShapes.Progress("Pull complete", "aaa", empty()),
            new ImageShapes.Progress("Building image disk", null, null));
    assertThat(p.began()).isTrue();
  }

  @Test
  void aBackendThatSaysPullingFsLayerItselfIsNotDoubled() {
    p.progress("Pulling fs layer", "ccc", -1, -1);
    p.progress("Downloading", "ccc", 0, 5);
    assertThat(lines)
        .extracting(ImageShapes.Progress::status)
        .containsExactly("Pulling from library/busybox", "Pulling fs layer", "Downloading");
  }

  @Test
  void nothingIsWrittenBeforeTheFirstStepSoAnEarlyFailureIsAPlainStatus() {
    assertThat(p.began()).isFalse();
    assertThat(lines).isEmpty();
    p.begin();
    p.begin();
    assertThat(lines).hasSize(1);
  }

  @Test
  void itsLinesSerializeAsDockerSpellsThem() throws Exception {
    var json = DockerJson.mapper();
    assertThat(
            json.writeValueAsString(
                new ImageShapes.Progress(
                    "Downloading", "aaa", new ImageShapes.ProgressDetail(1L, 2L))))
        .isEqualTo(
            "{\"status\":\"Downloading\",\"id\":\"aaa\",\"progressDetail\":{\"current\":1,\"total\":2}}");
    assertThat(json.writeValueAsString(new ImageShapes.Progress("Waiting", "a", empty())))
        .isEqualTo("{\"status\":\"Waiting\",\"id\":\"a\",\"progressDetail\":{}}");
    assertThat(
            json.writeValueAsString(
                new ImageShapes.StreamError(new ImageShapes.ErrorDetail("boom"), "boom")))
        .isEqualTo("{\"errorDetail\":{\"message\":\"boom\"},\"error\":\"boom\"}");
  }

  static ImageShapes.ProgressDetail empty() {
    return new ImageShapes.ProgressDetail(null, null);
  }
}
