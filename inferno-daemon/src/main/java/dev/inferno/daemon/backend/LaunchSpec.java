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
 * @param nic the VM's network interface, or null for none (only lo: {@code --network none})
 * @param hostname the guest's hostname
 * @param nameservers the guest's resolv.conf nameservers
 * @param search its search domains
 * @param hosts extra /etc/hosts lines ("IP NAME")
 * @param tty the workload runs on a pseudo-terminal ({@code -t})
 * @param stdin its stdin is fed by attach ({@code -i}) instead of /dev/null
 * @param consoleSize {@code [rows, cols]} of that terminal at start (validated), or null
 * @param storage its volumes, tmpfs mounts and read-only root ({@link Storage#NONE}: none)
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
    String vmm,
    GuestNic nic,
    String hostname,
    List<String> nameservers,
    List<String> search,
    List<String> hosts,
    boolean tty,
    boolean stdin,
    List<Integer> consoleSize,
    Storage storage) {
  public LaunchSpec {
    storage = storage == null ? Storage.NONE : storage;
    consoleSize = consoleSize == null ? null : List.copyOf(consoleSize);
    argv = List.copyOf(argv);
    env = List.copyOf(env);
    nameservers = List.copyOf(nameservers);
    search = List.copyOf(search);
    hosts = List.copyOf(hosts);
  }

  /** The same VM with this network interface. */
  public LaunchSpec withNic(GuestNic n) {
    return new LaunchSpec(
        id,
        name,
        image,
        argv,
        env,
        workdir,
        user,
        cpus,
        memoryBytes,
        stopSignal,
        stopTimeoutSeconds,
        vmm,
        n,
        hostname,
        nameservers,
        search,
        hosts,
        tty,
        stdin,
        consoleSize,
        storage);
  }

  /** A VM without volumes, tmpfs mounts or read-only root. */
  public LaunchSpec(
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
      String vmm,
      GuestNic nic,
      String hostname,
      List<String> nameservers,
      List<String> search,
      List<String> hosts,
      boolean tty,
      boolean stdin,
      List<Integer> consoleSize) {
    this(
        id,
        name,
        image,
        argv,
        env,
        workdir,
        user,
        cpus,
        memoryBytes,
        stopSignal,
        stopTimeoutSeconds,
        vmm,
        nic,
        hostname,
        nameservers,
        search,
        hosts,
        tty,
        stdin,
        consoleSize,
        Storage.NONE);
  }

  /** The same VM with these mounts. */
  public LaunchSpec withStorage(Storage s) {
    return new LaunchSpec(
        id,
        name,
        image,
        argv,
        env,
        workdir,
        user,
        cpus,
        memoryBytes,
        stopSignal,
        stopTimeoutSeconds,
        vmm,
        nic,
        hostname,
        nameservers,
        search,
        hosts,
        tty,
        stdin,
        consoleSize,
        s);
  }
}
