package dev.inferno.daemon.docker;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.inferno.daemon.network.AddressPool;
import dev.inferno.daemon.network.Ipv4Cidr;
import dev.inferno.daemon.store.VmNetwork;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.Health;
import dev.inferno.model.Mount;
import dev.inferno.model.PublishedPort;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import dev.inferno.model.units.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code GET /containers/json} and {@code GET /containers/{id}/json} answer, in Docker's
 * shapes (record components are spelled as Docker's fields), from a VM's record and network.
 */
final class ContainerShapes {
  /** The one network a VM is on, under the name Docker gives its default network. */
  static final String NETWORK = "bridge";

  private ContainerShapes() {}

  // --- list ---

  record Port(String IP, int PrivatePort, Integer PublicPort, String Type) {}

  record NetworkMode(String NetworkMode) {}

  record Networks(Map<String, Endpoint> Networks) {}

  /** A list entry; {@code SizeRw} and {@code SizeRootFs} only when sizes were asked for (df). */
  record Summary(
      String Id,
      List<String> Names,
      String Image,
      String ImageID,
      String Command,
      long Created,
      List<Port> Ports,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long SizeRw,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long SizeRootFs,
      Map<String, String> Labels,
      String State,
      String Status,
      NetworkMode HostConfig,
      Networks NetworkSettings,
      List<MountPoint> Mounts) {}

  /**
   * A list entry. {@code networkId}: the default network's id ({@link NetworkShapes.Net#id});
   * {@code sizeRw} what the VM's writable disk allocates, {@code sizeRootFs} that plus its image's
   * files (null: not asked for).
   */
  static Summary summary(
      VmRecord r,
      VmNetwork net,
      String networkId,
      Health health,
      Instant now,
      Long sizeRw,
      Long sizeRootFs) {
    List<Port> ports = new ArrayList<>();
    if (net != null && r.state().live()) {
      for (PublishedPort p : net.ports()) {
        ports.add(new Port(p.displayHostIp(), p.port(), p.hostPort(), p.protocol()));
      }
    }
    return new Summary(
        r.id(),
        List.of("/" + r.name()),
        familiar(r.request().image()),
        nz(r.imageDigest()),
        String.join(" ", r.command()),
        DockerTime.unix(r.createdAt()),
        ports,
        sizeRw,
        sizeRootFs,
        labels(r.request()),
        state(r),
        status(r, health, now),
        new NetworkMode(networkMode(r.request())),
        new Networks(networks(r, net, networkId)),
        mounts(r.request()));
  }

  /** Docker's State.Status. */
  static String state(VmRecord r) {
    return r.state().wire();
  }

  /** Docker's STATUS column ({@code State.String()} in moby): "Up 5 seconds (healthy)", … */
  static String status(VmRecord r, Health health, Instant now) {
    return switch (r.state()) {
      case CREATED -> "Created";
      case RUNNING, PAUSED -> {
        String s = "Up " + Durations.human(Duration.between(r.startedAt(), now));
        if (r.state() == VmState.PAUSED) {
          s += " (Paused)";
        } else if (health != null) {
          s +=
              " ("
                  + (health.status().equals("starting") ? "health: starting" : health.status())
                  + ")";
        }
        yield s;
      }
      case RESTARTING ->
          "Restarting ("
              + exitCode(r.exit())
              + ") "
              + Durations.human(Duration.between(r.finishedAt(), now))
              + " ago";
      case EXITED ->
          r.finishedAt() == null
              ? "Exited (" + exitCode(r.exit()) + ")"
              : "Exited ("
                  + exitCode(r.exit())
                  + ") "
                  + Durations.human(Duration.between(r.finishedAt(), now))
                  + " ago";
    };
  }

  static int exitCode(ExitRecord e) {
    return e == null || e.code() == null ? 0 : e.code();
  }

  // --- inspect ---

  record HealthLog(String Start, String End, int ExitCode, String Output) {}

  record HealthState(String Status, int FailingStreak, List<HealthLog> Log) {}

  record ContainerState(
      String Status,
      boolean Running,
      boolean Paused,
      boolean Restarting,
      boolean OOMKilled,
      boolean Dead,
      long Pid,
      int ExitCode,
      String Error,
      String StartedAt,
      String FinishedAt,
      @JsonProperty("Health") HealthState Health) {}

  record Restart(String Name, int MaximumRetryCount) {}

  record PortBinding(String HostIp, String HostPort) {}

  record Host(
      String NetworkMode,
      Map<String, List<PortBinding>> PortBindings,
      Restart RestartPolicy,
      boolean AutoRemove,
      List<String> Binds,
      boolean PublishAllPorts,
      boolean ReadonlyRootfs,
      long Memory,
      long NanoCpus,
      List<String> Dns,
      List<String> DnsSearch,
      List<String> ExtraHosts,
      List<Integer> ConsoleSize,
      String Runtime) {}

  record Endpoint(
      Object IPAMConfig,
      List<String> Links,
      List<String> Aliases,
      String NetworkID,
      String EndpointID,
      String Gateway,
      String IPAddress,
      int IPPrefixLen,
      String IPv6Gateway,
      String GlobalIPv6Address,
      int GlobalIPv6PrefixLen,
      String MacAddress) {}

  record NetSettings(
      String Bridge,
      String SandboxID,
      Map<String, List<PortBinding>> Ports,
      String SandboxKey,
      String EndpointID,
      String Gateway,
      String IPAddress,
      int IPPrefixLen,
      String MacAddress,
      Map<String, Endpoint> Networks) {}

  record MountPoint(
      String Type,
      String Name,
      String Source,
      String Destination,
      String Driver,
      String Mode,
      boolean RW,
      String Propagation) {}

  record Inspect(
      String Id,
      String Created,
      String Path,
      List<String> Args,
      ContainerState State,
      String Image,
      String Name,
      int RestartCount,
      String Driver,
      String Platform,
      List<String> ExecIDs,
      Host HostConfig,
      List<MountPoint> Mounts,
      DockerConfig Config,
      NetSettings NetworkSettings) {}

  static Inspect inspect(VmRecord r, VmNetwork net, String networkId, Health health) {
    RunRequest q = r.request();
    List<String> argv = r.command();
    ExitRecord e = r.exit();
    ContainerState state =
        new ContainerState(
            state(r),
            r.state().live() || r.state() == VmState.RESTARTING,
            r.state() == VmState.PAUSED,
            r.state() == VmState.RESTARTING,
            e != null && e.oom(),
            false,
            r.state().live() && r.pid() != null ? r.pid() : 0,
            exitCode(e),
            e != null && e.reason() != null ? e.reason() : "",
            DockerTime.format(r.startedAt()),
            DockerTime.format(r.finishedAt()),
            health == null ? null : healthState(health));
    return new Inspect(
        r.id(),
        DockerTime.format(r.createdAt()),
        argv.isEmpty() ? "" : argv.get(0),
        argv.isEmpty() ? List.of() : argv.subList(1, argv.size()),
        state,
        nz(r.imageDigest()),
        "/" + r.name(),
        r.restart().count(),
        "inferno",
        "linux",
        null,
        hostConfig(q),
        mounts(q),
        config(r),
        networkSettings(r, net, networkId));
  }

  private static HealthState healthState(Health h) {
    return new HealthState(
        h.status(),
        h.failingStreak(),
        h.log().stream()
            .map(x ->
                new HealthLog(
                    DockerTime.format(x.start()),
                    DockerTime.format(x.end()),
                    x.exitCode(),
                    x.output()))
            .toList());
  }

  private static Host hostConfig(RunRequest q) {
    Map<String, List<PortBinding>> bindings = new LinkedHashMap<>();
    for (String p : q.ports() == null ? List.<String>of() : q.ports()) {
      // the -p string as asked ([IP:][HOSTPORT:]PORT[/PROTO]); the bound ports are in
      // NetworkSettings
      String spec = p;
      String proto = "tcp";
      int slash = spec.lastIndexOf('/');
      if (slash >= 0) {
        proto = spec.substring(slash + 1);
        spec = spec.substring(0, slash);
      }
      int colon = spec.lastIndexOf(':');
      String guest = spec.substring(colon + 1);
      String hostSide = colon < 0 ? "" : spec.substring(0, colon);
      int ipEnd = hostSide.lastIndexOf(':');
      String ip = ipEnd < 0 ? "" : hostSide.substring(0, ipEnd).replace("[", "").replace("]", "");
      String hostPort = ipEnd < 0 ? hostSide : hostSide.substring(ipEnd + 1);
      bindings
          .computeIfAbsent(guest + "/" + proto, k -> new ArrayList<>())
          .add(new PortBinding(ip, hostPort));
    }
    List<String> binds = new ArrayList<>();
    for (Mount m : q.mounts() == null ? List.<Mount>of() : q.mounts()) {
      if (m.type().equals("volume") && m.source() != null) {
        binds.add(m.source() + ":" + m.target() + (m.isReadOnly() ? ":ro" : ""));
      }
    }
    String restart = q.restart() == null ? "no" : q.restart();
    int max = 0;
    if (restart.startsWith("on-failure:")) {
      max = Integer.parseInt(restart.substring("on-failure:".length()));
      restart = "on-failure";
    }
    return new Host(
        networkMode(q),
        bindings,
        new Restart(restart, max),
        Boolean.TRUE.equals(q.autoRemove()),
        binds,
        Boolean.TRUE.equals(q.publishAll()),
        Boolean.TRUE.equals(q.readOnly()),
        q.memoryBytes() == null ? 0 : q.memoryBytes(),
        q.cpus() == null ? 0 : (long) (q.cpus() * 1e9),
        q.dns() == null ? List.of() : q.dns(),
        q.dnsSearch() == null ? List.of() : q.dnsSearch(),
        q.extraHosts(),
        q.consoleSize() == null ? List.of(0, 0) : q.consoleSize(),
        "inferno");
  }

  private static DockerConfig config(VmRecord r) {
    RunRequest q = r.request();
    boolean interactive = Boolean.TRUE.equals(q.interactive());
    return new DockerConfig(
        q.hostname() != null ? q.hostname() : r.id().substring(0, Math.min(12, r.id().length())),
        "",
        q.user() == null ? "" : q.user(),
        interactive,
        true,
        true,
        DockerConfig.set(hostConfig(q).PortBindings().keySet()),
        Boolean.TRUE.equals(q.tty()),
        interactive,
        interactive,
        q.env() == null ? List.of() : q.env(),
        q.cmd(),
        DockerConfig.Healthcheck.of(q.healthcheck()),
        familiar(q.image()),
        null,
        q.workdir() == null ? "" : q.workdir(),
        q.entrypoint(),
        null,
        labels(q),
        q.stopSignal(),
        q.stopTimeoutSeconds());
  }

  private static NetSettings networkSettings(VmRecord r, VmNetwork net, String networkId) {
    Map<String, List<PortBinding>> ports = new LinkedHashMap<>();
    if (net != null && r.state().live()) {
      for (PublishedPort p : net.ports()) {
        ports
            .computeIfAbsent(p.privatePort(), k -> new ArrayList<>())
            .add(
                new PortBinding(
                    p.hostIp().isEmpty() ? "0.0.0.0" : p.hostIp(), String.valueOf(p.hostPort())));
      }
    }
    Map<String, Endpoint> networks = networks(r, net, networkId);
    Endpoint ep = networks.get(NETWORK);
    return new NetSettings(
        "",
        r.id(),
        ports,
        "",
        ep == null ? "" : ep.EndpointID(),
        ep == null ? "" : ep.Gateway(),
        ep == null ? "" : ep.IPAddress(),
        ep == null ? 0 : ep.IPPrefixLen(),
        ep == null ? "" : ep.MacAddress(),
        networks);
  }

  /** The VM's one endpoint while it has an address (none on network none or when stopped). */
  private static Map<String, Endpoint> networks(VmRecord r, VmNetwork net, String networkId) {
    Endpoint ep = endpoint(r, net, networkId);
    return ep == null ? Map.of() : Map.of(NETWORK, ep);
  }

  /**
   * The VM's endpoint on the default network while it has an address, else null: the one rule for
   * container inspect and network inspect. {@code networkId}: that network's id.
   */
  static Endpoint endpoint(VmRecord r, VmNetwork net, String networkId) {
    if (net == null || !r.state().live()) {
      return null;
    }
    Ipv4Cidr slot = Ipv4Cidr.parse(net.subnet());
    return new Endpoint(
        null,
        null,
        null,
        networkId,
        net.device(),
        Ipv4Cidr.formatAddress(AddressPool.hostAddress(slot)),
        Ipv4Cidr.formatAddress(AddressPool.guestAddress(slot)),
        slot.prefix(),
        "",
        "",
        0,
        net.mac());
  }

  private static List<MountPoint> mounts(RunRequest q) {
    List<MountPoint> out = new ArrayList<>();
    for (Mount m : q.mounts() == null ? List.<Mount>of() : q.mounts()) {
      boolean volume = m.type().equals("volume");
      out.add(
          new MountPoint(
              m.type(),
              volume ? nz(m.source()) : null,
              "",
              m.target(),
              volume ? "local" : "",
              m.isReadOnly() ? "ro" : "",
              !m.isReadOnly(),
              ""));
    }
    return out;
  }

  static String networkMode(RunRequest q) {
    return "none".equals(q.network()) ? "none" : NETWORK;
  }

  static Map<String, String> labels(RunRequest q) {
    return q.labels() == null ? Map.of() : q.labels();
  }

  /** An image reference as Docker shows it ({@code busybox:latest}, not docker.io/library/…). */
  static String familiar(String ref) {
    try {
      return dev.inferno.image.ref.ImageRef.parse(ref).familiar();
    } catch (IllegalArgumentException e) {
      return ref;
    }
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
