package dev.inferno.model;

import java.time.Instant;
import java.util.List;

/**
 * One row of {@code GET /v1/vms} ({@code inferno ps}).
 *
 * @param id full id, 16 hex digits (the CLI shows the first 12)
 * @param name unique name
 * @param image the reference the VM was started from
 * @param command entrypoint + cmd as run
 * @param state created, running or exited
 * @param createdAt when the record was created
 * @param startedAt when the VMM started, or null
 * @param finishedAt when it exited, or null
 * @param exit the exit record once exited, or null
 * @param ports the published ports while it runs (ps's PORTS)
 * @param restartCount how often the restart policy has restarted it
 * @param health {@code starting}, {@code healthy} or {@code unhealthy}; null without a health check
 */
public record VmSummary(
    String id,
    String name,
    String image,
    List<String> command,
    VmState state,
    Instant createdAt,
    Instant startedAt,
    Instant finishedAt,
    ExitRecord exit,
    List<PublishedPort> ports,
    int restartCount,
    String health) {
  public VmSummary {
    ports = ports == null ? List.of() : List.copyOf(ports);
  }

  /** A VM never restarted, without a health check. */
  public VmSummary(
      String id,
      String name,
      String image,
      List<String> command,
      VmState state,
      Instant createdAt,
      Instant startedAt,
      Instant finishedAt,
      ExitRecord exit,
      List<PublishedPort> ports) {
    this(id, name, image, command, state, createdAt, startedAt, finishedAt, exit, ports, 0, null);
  }
}
