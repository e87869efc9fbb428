package dev.inferno.model;

import java.util.List;
import java.util.Map;

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
 * @param tty the workload runs on a pseudo-terminal in the guest ({@code -t}); its output is one
 *     stream
 * @param interactive its stdin stays open for attach ({@code -i}); otherwise it reads /dev/null
 * @param consoleSize {@code [rows, cols]} of the terminal before the workload starts (with tty)
 * @param restart the restart policy ({@code --restart}): {@code no}, {@code on-failure[:N]}, {@code
 *     always} or {@code unless-stopped}; null is {@code no}
 * @param mounts volumes and tmpfs mounts ({@code -v}, {@code --mount}, {@code --tmpfs})
 * @param readOnly the root filesystem is read-only ({@code --read-only}): no writable layer
 * @param healthcheck overrides the image's HEALTHCHECK ({@code --health-*}, {@code
 *     --no-healthcheck}); null keeps the image's
 * @param labels metadata, Docker's {@code Config.Labels} (set through the Docker API; kept with the
 *     VM so that inspect and label filters see them); null is none
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
    List<String> extraHosts,
    Boolean tty,
    Boolean interactive,
    List<Integer> consoleSize,
    String restart,
    List<Mount> mounts,
    Boolean readOnly,
    HealthConfig healthcheck,
    Map<String, String> labels) {

  public RunRequest {
    labels = labels == null ? null : Map.copyOf(labels);
  }

  /** Every field but labels (none): the shape before the Docker API. */
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
      Boolean autoRemove,
      List<String> ports,
      Boolean publishAll,
      String network,
      String hostname,
      List<String> dns,
      List<String> dnsSearch,
      List<String> extraHosts,
      Boolean tty,
      Boolean interactive,
      List<Integer> consoleSize,
      String restart,
      List<Mount> mounts,
      Boolean readOnly,
      HealthConfig healthcheck) {
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
        ports,
        publishAll,
        network,
        hostname,
        dns,
        dnsSearch,
        extraHosts,
        tty,
        interactive,
        consoleSize,
        restart,
        mounts,
        readOnly,
        healthcheck,
        null);
  }

  /** A request for an image with every other field defaulted. */
  public static RunRequest of(String image) {
    return builder(image).build();
  }

  /** A request for an image; every field not set stays null (the default). */
  public static Builder builder(String image) {
    return new Builder().image(image);
  }

  public Builder toBuilder() {
    return new Builder()
        .image(image)
        .name(name)
        .env(env)
        .entrypoint(entrypoint)
        .cmd(cmd)
        .workdir(workdir)
        .user(user)
        .cpus(cpus)
        .memoryBytes(memoryBytes)
        .stopSignal(stopSignal)
        .stopTimeoutSeconds(stopTimeoutSeconds)
        .vmm(vmm)
        .platform(platform)
        .pull(pull)
        .autoRemove(autoRemove)
        .ports(ports)
        .publishAll(publishAll)
        .network(network)
        .hostname(hostname)
        .dns(dns)
        .dnsSearch(dnsSearch)
        .extraHosts(extraHosts)
        .tty(tty)
        .interactive(interactive)
        .consoleSize(consoleSize)
        .restart(restart)
        .mounts(mounts)
        .readOnly(readOnly)
        .healthcheck(healthcheck)
        .labels(labels);
  }

  public RunRequest withName(String n) {
    return toBuilder().name(n).build();
  }

  public RunRequest withCmd(List<String> c) {
    return toBuilder().cmd(c).build();
  }

  public RunRequest withAutoRemove(boolean rm) {
    return toBuilder().autoRemove(rm).build();
  }

  public RunRequest withPull(String p) {
    return toBuilder().pull(p).build();
  }

  /** Sets fields one by one: the record has one component per {@code inferno run} option. */
  public static final class Builder {
    private String image;
    private String name;
    private List<String> env;
    private List<String> entrypoint;
    private List<String> cmd;
    private String workdir;
    private String user;
    private Double cpus;
    private Long memoryBytes;
    private String stopSignal;
    private Integer stopTimeoutSeconds;
    private String vmm;
    private String platform;
    private String pull;
    private Boolean autoRemove;
    private List<String> ports;
    private Boolean publishAll;
    private String network;
    private String hostname;
    private List<String> dns;
    private List<String> dnsSearch;
    private List<String> extraHosts;
    private Boolean tty;
    private Boolean interactive;
    private List<Integer> consoleSize;
    private String restart;
    private List<Mount> mounts;
    private Boolean readOnly;
    private HealthConfig healthcheck;
    private Map<String, String> labels;

    private Builder() {}

    public Builder image(String v) {
      image = v;
      return this;
    }

    public Builder name(String v) {
      name = v;
      return this;
    }

    public Builder env(List<String> v) {
      env = v;
      return this;
    }

    public Builder entrypoint(List<String> v) {
      entrypoint = v;
      return this;
    }

    public Builder cmd(List<String> v) {
      cmd = v;
      return this;
    }

    public Builder workdir(String v) {
      workdir = v;
      return this;
    }

    public Builder user(String v) {
      user = v;
      return this;
    }

    public Builder cpus(Double v) {
      cpus = v;
      return this;
    }

    public Builder memoryBytes(Long v) {
      memoryBytes = v;
      return this;
    }

    public Builder stopSignal(String v) {
      stopSignal = v;
      return this;
    }

    public Builder stopTimeoutSeconds(Integer v) {
      stopTimeoutSeconds = v;
      return this;
    }

    public Builder vmm(String v) {
      vmm = v;
      return this;
    }

    public Builder platform(String v) {
      platform = v;
      return this;
    }

    public Builder pull(String v) {
      pull = v;
      return this;
    }

    public Builder autoRemove(Boolean v) {
      autoRemove = v;
      return this;
    }

    public Builder ports(List<String> v) {
      ports = v;
      return this;
    }

    public Builder publishAll(Boolean v) {
      publishAll = v;
      return this;
    }

    public Builder network(String v) {
      network = v;
      return this;
    }

    public Builder hostname(String v) {
      hostname = v;
      return this;
    }

    public Builder dns(List<String> v) {
      dns = v;
      return this;
    }

    public Builder dnsSearch(List<String> v) {
      dnsSearch = v;
      return this;
    }

    public Builder extraHosts(List<String> v) {
      extraHosts = v;
      return this;
    }

    public Builder tty(Boolean v) {
      tty = v;
      return this;
    }

    public Builder interactive(Boolean v) {
      interactive = v;
      return this;
    }

    public Builder consoleSize(List<Integer> v) {
      consoleSize = v;
      return this;
    }

    public Builder restart(String v) {
      restart = v;
      return this;
    }

    public Builder mounts(List<Mount> v) {
      mounts = v;
      return this;
    }

    public Builder readOnly(Boolean v) {
      readOnly = v;
      return this;
    }

    public Builder healthcheck(HealthConfig v) {
      healthcheck = v;
      return this;
    }

    public Builder labels(Map<String, String> v) {
      labels = v;
      return this;
    }

    public RunRequest build() {
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
          extraHosts,
          tty,
          interactive,
          consoleSize,
          restart,
          mounts,
          readOnly,
          healthcheck,
          labels);
    }
  }
}
