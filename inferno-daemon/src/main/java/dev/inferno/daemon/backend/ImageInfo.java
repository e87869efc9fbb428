package dev.inferno.daemon.backend;

import dev.inferno.model.HealthConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A local image as the daemon sees it: identity plus the parts of the OCI config ("config" object)
 * a VM's process needs, and the read-only disk kiln attaches.
 *
 * @param reference normalized reference
 * @param manifestDigest manifest digest
 * @param configDigest config digest (the image id)
 * @param sizeBytes stored size
 * @param createdAt build time from the config, or null
 * @param entrypoint Entrypoint, or empty
 * @param cmd Cmd, or empty
 * @param env Env as KEY=VALUE
 * @param workdir WorkingDir, or null
 * @param user User, or null
 * @param stopSignal StopSignal, or null
 * @param disk the read-only ext4 disk holding the image's root
 * @param exposedPorts ExposedPorts' keys ("80/tcp", "53/udp"), for {@code -P}
 * @param volumes Volumes' keys (absolute paths): each gets an anonymous volume
 * @param healthcheck Healthcheck, or null when the image has none
 * @param labels Labels of the config (the Docker API shows and filters on them)
 * @param os the platform's OS, or null when unknown
 * @param architecture the platform's architecture (amd64, arm64), or null when unknown
 * @param references every normalized reference naming it ({@code reference} is the first); empty
 *     for an image known only by digest (docker's dangling {@code <none>})
 */
public record ImageInfo(
    String reference,
    String manifestDigest,
    String configDigest,
    long sizeBytes,
    Instant createdAt,
    List<String> entrypoint,
    List<String> cmd,
    List<String> env,
    String workdir,
    String user,
    String stopSignal,
    Path disk,
    List<String> exposedPorts,
    List<String> volumes,
    HealthConfig healthcheck,
    Map<String, String> labels,
    String os,
    String architecture,
    List<String> references) {
  public ImageInfo {
    references = references == null ? List.of(reference) : List.copyOf(references);
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    volumes = volumes == null ? List.of() : List.copyOf(volumes);
    entrypoint = entrypoint == null ? List.of() : List.copyOf(entrypoint);
    cmd = cmd == null ? List.of() : List.copyOf(cmd);
    env = env == null ? List.of() : List.copyOf(env);
    exposedPorts = exposedPorts == null ? List.of() : List.copyOf(exposedPorts);
  }

  /** An image with one name. */
  public ImageInfo(
      String reference,
      String manifestDigest,
      String configDigest,
      long sizeBytes,
      Instant createdAt,
      List<String> entrypoint,
      List<String> cmd,
      List<String> env,
      String workdir,
      String user,
      String stopSignal,
      Path disk,
      List<String> exposedPorts,
      List<String> volumes,
      HealthConfig healthcheck,
      Map<String, String> labels,
      String os,
      String architecture) {
    this(
        reference,
        manifestDigest,
        configDigest,
        sizeBytes,
        createdAt,
        entrypoint,
        cmd,
        env,
        workdir,
        user,
        stopSignal,
        disk,
        exposedPorts,
        volumes,
        healthcheck,
        labels,
        os,
        architecture,
        List.of(reference));
  }

  /** The same image named by {@code refs} (see {@link #references}). */
  public ImageInfo withReferences(List<String> refs) {
    return new ImageInfo(
        refs.isEmpty() ? reference : refs.getFirst(),
        manifestDigest,
        configDigest,
        sizeBytes,
        createdAt,
        entrypoint,
        cmd,
        env,
        workdir,
        user,
        stopSignal,
        disk,
        exposedPorts,
        volumes,
        healthcheck,
        labels,
        os,
        architecture,
        refs);
  }

  /** An image without labels or a known platform. */
  public ImageInfo(
      String reference,
      String manifestDigest,
      String configDigest,
      long sizeBytes,
      Instant createdAt,
      List<String> entrypoint,
      List<String> cmd,
      List<String> env,
      String workdir,
      String user,
      String stopSignal,
      Path disk,
      List<String> exposedPorts,
      List<String> volumes,
      HealthConfig healthcheck) {
    this(
        reference,
        manifestDigest,
        configDigest,
        sizeBytes,
        createdAt,
        entrypoint,
        cmd,
        env,
        workdir,
        user,
        stopSignal,
        disk,
        exposedPorts,
        volumes,
        healthcheck,
        Map.of(),
        null,
        null);
  }

  /** An image without VOLUME or HEALTHCHECK. */
  public ImageInfo(
      String reference,
      String manifestDigest,
      String configDigest,
      long sizeBytes,
      Instant createdAt,
      List<String> entrypoint,
      List<String> cmd,
      List<String> env,
      String workdir,
      String user,
      String stopSignal,
      Path disk,
      List<String> exposedPorts) {
    this(
        reference,
        manifestDigest,
        configDigest,
        sizeBytes,
        createdAt,
        entrypoint,
        cmd,
        env,
        workdir,
        user,
        stopSignal,
        disk,
        exposedPorts,
        List.of(),
        null);
  }
}
