package dev.inferno.image;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.Platform;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * A pulled or loaded image, ready to boot.
 *
 * @param references fully qualified references naming it ({@code docker.io/library/alpine:3.20});
 *     empty for an image known only by digest
 * @param manifestDigest the platform manifest's digest (what {@code @sha256:…} pins)
 * @param configDigest the image config's digest; Docker's "image ID"
 * @param config the image config's {@code config} object (Entrypoint, Cmd, Env, WorkingDir, User,
 *     StopSignal, ExposedPorts …), verbatim; Docker's run merge of it is kiln's {@code DockerRun}
 * @param size bytes of file content in the image
 * @param created the image config's {@code created}, or null
 * @param disk the read-only ext4 image disk
 */
public record Image(
    List<String> references,
    Digest manifestDigest,
    Digest configDigest,
    Platform platform,
    ObjectNode config,
    long size,
    Instant created,
    Path disk) {
  public Image {
    references = List.copyOf(references);
  }

  /** Docker's short image ID: 12 hex digits of the config digest. */
  public String id() {
    return configDigest.shortHex();
  }
}
