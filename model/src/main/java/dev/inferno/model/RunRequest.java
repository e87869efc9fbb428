package dev.inferno.model;

import java.util.List;

/**
 * Body of {@code POST /v1/vms}: everything {@code inferno run} can say. Null means "the image's or
 * the daemon's default".
 *
 * @param image image reference (required)
 * @param name VM name, unique; generated when null
 * @param env environment as {@code KEY=VALUE}, added to the image's
 * @param entrypoint overrides the image's entrypoint (an empty list clears it)
 * @param cmd overrides the image's cmd
 * @param workdir working directory in the guest
 * @param user user[:group] in the guest
 * @param cpus vCPUs (whole numbers; fractional values are rounded up)
 * @param memoryBytes guest memory in bytes
 * @param stopSignal signal sent by stop (name like SIGTERM or number)
 * @param stopTimeoutSeconds grace period before a stop turns into a kill
 * @param vmm auto, firecracker or qemu
 * @param platform os/arch[/variant] to pull
 * @param pull missing, always or never
 * @param autoRemove remove the VM's record and logs when it exits ({@code --rm})
 * @param ports published ports, Docker's {@code -p} strings ({@code [IP:][HOSTPORT:]PORT[/PROTO]})
 * @param publishAll publish every port the image EXPOSEs on a random host port ({@code -P})
 * @param network "default" (its own TAP, NAT out) or "none" (only lo); null is "default"
 * @param hostname the guest's hostname; null: the first 12 digits of the VM id
 * @param dns nameservers (IPv4); null: the host's upstream ones
 * @param dnsSearch search domains; null: the host's
 * @param extraHosts {@code HOST:IP} lines for the guest's /etc/hosts ({@code --add-host})
 */
public record RunRequest(
    String image,
    String name,
    List<String> env,
    List<String> entrypoint,
    List<String> cmd,
    String workdir,
    String user,
    Double cpus,
    Long memoryBytes,
    String stopSignal,
    Integer stopTimeoutSeconds,
    String vmm,
    String platform,
    String pull,
    Boolean autoRemove,
    List<String> ports,
    Boolean publishAll,
    String network,
    String hostname,
    List<String> dns,
    List<String> dnsSearch,
    List<String> extraHosts) {

  /** A request without network settings (the default network). */
  public RunRequest(
      String image,
      String name,
      List<String> env,
      List<String> entrypoint,
      List<String> cmd,
      String workdir,
      String user,
      Double cpus,
      Long memoryBytes,
      String stopSignal,
      Integer stopTimeoutSeconds,
      String vmm,
      String platform,
      String pull,
      Boolean autoRemove) {
    this(
        image,
        name,
        env,
        entrypoint,
        cmd,
        workdir,
        user,
        cpus,
        memoryBytes,
        stopSignal,
        stopTimeoutSeconds,
        vmm,
        platform,
        pull,
        autoRemove,
        null,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  /** A request for an image with every other field defaulted. */
  public static RunRequest of(String image) {
    return new RunRequest(
        image, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
  }

  public RunRequest withName(String n) {
    return new RunRequest(
        image,
        n,
        env,
        entrypoint,
        cmd,
        workdir,
        user,
        cpus,
        memoryBytes,
        stopSignal,
        stopTimeoutSeconds,
        vmm,
        platform,
        pull,
        autoRemove,
        ports,
        publishAll,
        network,
        hostname,
        dns,
        dnsSearch,
        extraHosts);
  }

  public RunRequest withCmd(List<String> c) {
    return new RunRequest(
        image,
        name,
        env,
        entrypoint,
        c,
        workdir,
        user,
        cpus,
        memoryBytes,
        stopSignal,
        stopTimeoutSeconds,
        vmm,
        platform,
        pull,
        autoRemove,
        ports,
        publishAll,
        network,
        hostname,
        dns,
        dnsSearch,
        extraHosts);
  }

  public RunRequest withAutoRemove(boolean rm) {
    return new RunRequest(
        image,
        name,
        env,
        entrypoint,
        cmd,
        workdir,
        user,
        cpus,
        memoryBytes,
        stopSignal,
        stopTimeoutSeconds,
        vmm,
        platform,
        pull,
        rm,
        ports,
        publishAll,
        network,
        hostname,
        dns,
        dnsSearch,
        extraHosts);
  }

  public RunRequest withPull(String p) {
    return new RunRequest(
        image,
        name,
        env,
        entrypoint,
        cmd,
        workdir,
        user,
        cpus,
        memoryBytes,
        stopSignal,
        stopTimeoutSeconds,
        vmm,
        platform,
        p,
        autoRemove,
        ports,
        publishAll,
        network,
        hostname,
        dns,
        dnsSearch,
        extraHosts);
  }

  /** The same request with these network settings. */
  public RunRequest withNetwork(
      List<String> ports,
      Boolean publishAll,
      String network,
      String hostname,
      List<String> dns,
      List<String> dnsSearch,
      List<String> extraHosts) {
    return new RunRequest(
        image,
        name,
        env,
        entrypoint,
        cmd,
        workdir,
        user,
        cpus,
        memoryBytes,
        stopSignal,
        stopTimeoutSeconds,
        vmm,
        platform,
        pull,
        autoRemove,
        ports,
        publishAll,
        network,
        hostname,
        dns,
        dnsSearch,
        extraHosts);
  }
}
