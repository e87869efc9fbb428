package dev.inferno.daemon.backend;

import java.util.List;

/**
 * Everything a backend needs to start one VM, resolved by the daemon from the request, the image's
 * config and the daemon's defaults (kiln turns it into its VmSpec).
 *
 * @param id the VM's full id
 * @param name the VM's name
 * @param image the image, with its disk
 * @param argv the process to run (entrypoint + cmd), never empty
 * @param env KEY=VALUE, image env overridden by the request's
 * @param workdir working directory in the guest ("/" when unset)
 * @param user user[:group] in the guest, or null for root
 * @param cpus vCPUs
 * @param memoryBytes guest memory
 * @param stopSignal signal name for stop (e.g. SIGTERM)
 * @param stopTimeoutSeconds grace before a stop turns into a kill
 * @param vmm "firecracker", "qemu" or "auto"
 */
public record LaunchSpec(
    String id,
    String name,
    ImageInfo image,
    List<String> argv,
    List<String> env,
    String workdir,
    String user,
    int cpus,
    long memoryBytes,
    String stopSignal,
    int stopTimeoutSeconds,
    String vmm) {
  public LaunchSpec {
    argv = List.copyOf(argv);
    env = List.copyOf(env);
  }
}
