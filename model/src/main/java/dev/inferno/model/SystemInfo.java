package dev.inferno.model;

/**
 * {@code GET /v1/info}.
 *
 * @param vmm the VMM new VMs get by default (firecracker or qemu)
 * @param kvm whether /dev/kvm is usable
 * @param kernel the guest kernel path
 * @param stateDir the daemon's state directory
 * @param vms total VMs known
 * @param running VMs running
 * @param exited VMs exited
 * @param images images stored
 */
public record SystemInfo(
    String vmm,
    boolean kvm,
    String kernel,
    String stateDir,
    int vms,
    int running,
    int exited,
    int images) {}
