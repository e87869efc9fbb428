package dev.inferno.model;

import java.time.Instant;
import java.util.List;

/**
 * {@code GET /v1/vms/{id}} ({@code inferno inspect}).
 *
 * @param id full id
 * @param name unique name
 * @param image the reference the VM was started from
 * @param imageDigest the manifest digest the reference resolved to
 * @param command entrypoint + cmd as run
 * @param state created, running or exited
 * @param createdAt when the record was created
 * @param startedAt when the VMM started, or null
 * @param finishedAt when it exited, or null
 * @param exit the exit record once exited, or null
 * @param pid the VMM's host pid while running, or null
 * @param vmm the VMM that runs (or ran) it: firecracker or qemu
 * @param request the request it was created from, as received
 * @param networkSettings its network (address, MAC, published ports)
 * @param restartCount how often the restart policy has restarted it
 * @param health its health check's state and last results; null without a health check
 */
public record VmDetail(
    String id,
    String name,
    String image,
    String imageDigest,
    List<String> command,
    VmState state,
    Instant createdAt,
    Instant startedAt,
    Instant finishedAt,
    ExitRecord exit,
    Long pid,
    String vmm,
    RunRequest request,
    NetworkSettings networkSettings,
    int restartCount,
    Health health) {

  /** A VM never restarted, without a health check. */
  public VmDetail(
      String id,
      String name,
      String image,
      String imageDigest,
      List<String> command,
      VmState state,
      Instant createdAt,
      Instant startedAt,
      Instant finishedAt,
      ExitRecord exit,
      Long pid,
      String vmm,
      RunRequest request,
      NetworkSettings networkSettings) {
    this(
        id,
        name,
        image,
        imageDigest,
        command,
        state,
        createdAt,
        startedAt,
        finishedAt,
        exit,
        pid,
        vmm,
        request,
        networkSettings,
        0,
        null);
  }
}
