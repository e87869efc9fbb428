package dev.inferno.daemon.config;

import dev.inferno.daemon.network.Nftables;
import java.nio.file.Path;
import java.util.List;

/**
 * The daemon's settings: the config file's values with flags applied on top.
 *
 * @param stateDir where the database, images, disks, logs and jails live
 * @param socket the API's unix socket
 * @param socketGroup the group given access to the socket (when it exists)
 * @param kernel the guest kernel (vmlinux)
 * @param init the guest init binary kiln packs into each VM's initramfs
 * @param vmm auto, firecracker or qemu
 * @param firecracker the firecracker binary
 * @param jailer the jailer binary
 * @param qemu the qemu-system-x86_64 binary
 * @param jailUidFirst first uid/gid of the range jailed VMMs get, one per VM
 * @param jailUidLast last of that range
 * @param defaultCpus vCPUs when run does not say
 * @param defaultMemoryBytes memory when run does not say
 * @param stopTimeoutSeconds grace before stop turns into kill, when run does not say
 * @param logMaxBytes a VM's log files are rotated at this size
 * @param logMaxFiles and this many are kept
 * @param logSink a unix socket to forward log records to (NDJSON), or null
 * @param insecureRegistries registries reached over plain HTTP
 * @param imageScratch a tmpfs to unpack layers into before the image disk is built, or null
 * @param qemuAccel auto, kvm or tcg
 * @param maxBodyBytes largest JSON request body accepted
 * @param network the host side of the VMs' network: nftables table, address pool, TAP prefix
 * @param volumeSizeBytes a volume's size when its creator does not say
 * @param metricsAddr HOST:PORT to serve Prometheus metrics on, or null (off)
 * @param dockerSocket a second unix socket speaking the Docker Engine API, or null (off)
 */
public record DaemonConfig(
    Path stateDir,
    Path socket,
    String socketGroup,
    Path kernel,
    Path init,
    String vmm,
    Path firecracker,
    Path jailer,
    Path qemu,
    int jailUidFirst,
    int jailUidLast,
    int defaultCpus,
    long defaultMemoryBytes,
    int stopTimeoutSeconds,
    long logMaxBytes,
    int logMaxFiles,
    Path logSink,
    List<String> insecureRegistries,
    Path imageScratch,
    String qemuAccel,
    long maxBodyBytes,
    Nftables.Config network,
    long volumeSizeBytes,
    String metricsAddr,
    Path dockerSocket) {
  public DaemonConfig {
    insecureRegistries = List.copyOf(insecureRegistries);
  }

  public Path database() {
    return stateDir.resolve("inferno.db");
  }

  /** Where the volumes' image files live. */
  public Path volumes() {
    return stateDir.resolve("volumes");
  }
}
