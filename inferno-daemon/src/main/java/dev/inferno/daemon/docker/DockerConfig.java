package dev.inferno.daemon.docker;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.inferno.model.HealthConfig;
import java.util.List;
import java.util.Map;

/**
 * Docker's {@code container.Config}: the {@code Config} of a container's inspect and of an image's
 * inspect alike (one struct in Docker, one record here). Fields are Docker's names; empty ones are
 * written as dockerd writes them ({@code null} or empty), never left out.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
record DockerConfig(
    String Hostname,
    String Domainname,
    String User,
    boolean AttachStdin,
    boolean AttachStdout,
    boolean AttachStderr,
    Map<String, Object> ExposedPorts,
    boolean Tty,
    boolean OpenStdin,
    boolean StdinOnce,
    List<String> Env,
    List<String> Cmd,
    Healthcheck Healthcheck,
    String Image,
    Map<String, Object> Volumes,
    String WorkingDir,
    List<String> Entrypoint,
    List<String> OnBuild,
    Map<String, String> Labels,
    String StopSignal,
    Integer StopTimeout) {

  /** Docker's {@code HealthConfig} (durations in nanoseconds). */
  record Healthcheck(
      List<String> Test, Long Interval, Long Timeout, Long StartPeriod, Integer Retries) {
    /** The check as Docker shows it, or null for none. */
    static Healthcheck of(HealthConfig h) {
      return h == null
          ? null
          : new Healthcheck(
              h.test(), h.intervalNanos(), h.timeoutNanos(), h.startPeriodNanos(), h.retries());
    }
  }

  /** Docker's set (ExposedPorts, Volumes): keys to empty objects, or null for none. */
  static Map<String, Object> set(java.util.Collection<String> keys) {
    if (keys == null || keys.isEmpty()) {
      return null;
    }
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    keys.forEach(k -> m.put(k, Map.of()));
    return m;
  }
}
