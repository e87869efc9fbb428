package dev.inferno.daemon.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Real image archives for tests of the real image module: an OCI layout of busybox-static built by
 * scripts/make-busybox-image.sh (umoci), named as {@code inferno load} and {@code docker load} read
 * a name, tarred.
 */
public final class BusyboxArchives {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The layout (to read its blobs) and its tar. */
  public record Archive(Path layout, byte[] tar) {}

  private BusyboxArchives() {}

  /**
   * Builds the layout in {@code dir}, applies {@code umociConfig} (e.g. {@code --config.cmd true};
   * none: as built) and names it {@code name} (the index's ref.name annotation).
   */
  public static Archive make(Path dir, String name, List<String> umociConfig) throws Exception {
    Path layout = dir.resolve("layout");
    run(
        Path.of(System.getProperty("inferno.root"))
            .resolve("scripts/make-busybox-image.sh")
            .toString(),
        layout.toString());
    if (!umociConfig.isEmpty()) {
      List<String> cmd = new ArrayList<>(List.of("umoci", "config", "--image", layout + ":latest"));
      cmd.addAll(umociConfig);
      run(cmd.toArray(String[]::new));
    }
    ObjectNode index = (ObjectNode) JSON.readTree(layout.resolve("index.json").toFile());
    for (JsonNode m : index.get("manifests")) {
      ((ObjectNode) m.get("annotations")).put("org.opencontainers.image.ref.name", name);
    }
    Files.write(layout.resolve("index.json"), JSON.writeValueAsBytes(index));
    Path tar = dir.resolve("image.tar");
    run("tar", "-C", layout.toString(), "-cf", tar.toString(), ".");
    return new Archive(layout, Files.readAllBytes(tar));
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
  }
}
