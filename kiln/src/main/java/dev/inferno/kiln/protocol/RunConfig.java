package dev.inferno.kiln.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Objects;

/**
 * The guest's run config, {@code /inferno/run.json} (PROTOCOL.md §5), version {@value #VERSION}.
 * Mirrors init's {@code config.rs}: the same defaults, the same checks, the same error messages
 * (both sides parse the golden files in testdata/protocol/run-config). A new field is a component
 * here, a line in {@link Builder}, {@link #toJson} and {@link #fromJson(JsonNode)}, and init's
 * parser.
 *
 * @param vmId the VM id (HELLO carries it)
 * @param hostname the guest's hostname
 * @param process what init runs, resolved by the host (see {@code dev.inferno.kiln.run})
 * @param root the block devices of the root
 * @param mounts volumes and tmpfs mounted before the workload starts (Docker's -v, --tmpfs)
 * @param transport how the channels travel
 * @param ports vsock ports of the channels
 * @param stopTimeoutSecs how long a stop waits before the host escalates
 * @param log init's log buffer
 * @param metricsIntervalSecs seconds between METRICS frames; 0 turns metrics off
 * @param dns written to /etc/resolv.conf when it has nameservers
 * @param hosts lines appended to the generated /etc/hosts
 * @param network eth0's configuration; null for {@code --network none} (only {@code lo})
 */
public record RunConfig(
    String vmId,
    String hostname,
    ProcessSpec process,
    Root root,
    List<Mount> mounts,
    Transport transport,
    GuestPorts ports,
    long stopTimeoutSecs,
    LogSettings log,
    long metricsIntervalSecs,
    Dns dns,
    List<String> hosts,
    Network network) {

  /** The version this side speaks; init accepts exactly the versions it speaks. */
  public static final int VERSION = 2;

  public RunConfig {
    Objects.requireNonNull(vmId, "vmId");
    Objects.requireNonNull(hostname, "hostname");
    Objects.requireNonNull(process, "process");
    Objects.requireNonNull(root, "root");
    mounts = List.copyOf(mounts);
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(ports, "ports");
    Objects.requireNonNull(log, "log");
    Objects.requireNonNull(dns, "dns");
    hosts = List.copyOf(hosts);
    if (stopTimeoutSecs < 0 || metricsIntervalSecs < 0) {
      throw new IllegalArgumentException(
          "stop.timeout_secs and metrics_interval_secs must be >= 0");
    }
  }

  /**
   * @param imageDevice the read-only image, the overlay's lower dir
   * @param writableDevice the overlay's upper and work dirs; null for an ephemeral VM (tmpfs)
   * @param readonly Docker's {@code --read-only}: init remounts the root read-only (and mounts
   *     tmpfs on /tmp and /run)
   */
  public record Root(String imageDevice, String writableDevice, boolean readonly) {
    public static final Root DEFAULT = new Root("/dev/vda", "/dev/vdb", false);

    public Root {
      Objects.requireNonNull(imageDevice, "imageDevice");
    }

    /** A writable root. */
    public Root(String imageDevice, String writableDevice) {
      this(imageDevice, writableDevice, false);
    }
  }

  /**
   * One entry of {@code mounts} (PROTOCOL.md §5). The checks are init's (config.rs); the parser
   * puts {@code mounts[i].} before their messages.
   */
  public sealed interface Mount {
    /** Where it is mounted in the guest (absolute). */
    String target();

    /**
     * An ext4 block device kiln attached (a volume).
     *
     * @param device the guest's device node, e.g. "/dev/vdc" (kiln decides it)
     * @param readonly mounted with MS_RDONLY
     */
    record Volume(String device, String target, boolean readonly) implements Mount {
      public Volume {
        if (device == null) {
          throw new IllegalArgumentException("device is missing");
        }
        if (!device.startsWith("/")) {
          throw new IllegalArgumentException(
              "device must be an absolute path, not " + JsonFields.quote(device));
        }
        checkTarget(target);
      }
    }

    /**
     * A tmpfs ({@code nosuid,nodev}).
     *
     * @param sizeBytes null: the kernel's default (half the guest's memory)
     * @param mode permission bits, 0 to 4095 (07777); null: 01777
     */
    record Tmpfs(String target, Long sizeBytes, Integer mode) implements Mount {
      public Tmpfs {
        checkTarget(target);
        if (sizeBytes != null && sizeBytes < 0) {
          throw new IllegalArgumentException("size_bytes must be a non-negative integer");
        }
        if (mode != null && (mode < 0 || mode > 4095)) {
          throw new IllegalArgumentException("mode must be 0 to 4095, not " + mode);
        }
      }
    }

    /** The target rule of every mount: present and absolute. */
    static void checkTarget(String target) {
      if (target == null) {
        throw new IllegalArgumentException("target is missing");
      }
      if (!target.startsWith("/")) {
        throw new IllegalArgumentException(
            "target must be an absolute path, not " + JsonFields.quote(target));
      }
    }
  }

  public enum Transport {
    AUTO("auto"),
    VSOCK("vsock"),
    VIRTIO_SERIAL("virtio-serial");

    private final String label;

    Transport(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  public enum LogMode {
    BLOCK,
    DROP;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * @param mode what a full buffer does: block the workload or drop its output
   * @param bufferBytes unacknowledged LOG payload init holds, at least 4096
   * @param drainTimeoutMs how long init waits for the host's acks after the workload exited
   */
  public record LogSettings(LogMode mode, long bufferBytes, long drainTimeoutMs) {
    public static final LogSettings DEFAULT = new LogSettings(LogMode.BLOCK, 1 << 20, 5000);

    public LogSettings {
      Objects.requireNonNull(mode, "mode");
      if (bufferBytes < 4096) {
        throw new IllegalArgumentException(
            "log.buffer_bytes must be at least 4096, not " + bufferBytes);
      }
      if (drainTimeoutMs < 0) {
        throw new IllegalArgumentException("log.drain_timeout_ms must not be negative");
      }
    }
  }

  public record Dns(List<String> nameservers, List<String> search) {
    public static final Dns NONE = new Dns(List.of(), List.of());

    public Dns {
      nameservers = List.copyOf(nameservers);
      search = List.copyOf(search);
    }
  }

  /**
   * The guest's one network interface (docs/networking.md): init finds it by {@code mac}, gives it
   * {@code address}, a default route via {@code gateway} and {@code mtu}, and sets it up. The same
   * checks and messages as init's config.rs.
   *
   * @param mac lower-case unicast MAC, e.g. "02:42:ac:1e:00:02"
   * @param address the guest's IPv4 address with its prefix length, e.g. "172.30.0.2/30"
   * @param gateway the host side of the link, inside the address's subnet, e.g. "172.30.0.1"
   * @param mtu 68 (IPv4's minimum) to 65535
   */
  public record Network(String mac, String address, String gateway, int mtu) {
    public static final int DEFAULT_MTU = 1500;

    private static final java.util.regex.Pattern MAC =
        java.util.regex.Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");

    public Network {
      checkMac("network.mac", mac);
      required("network.address", address);
      required("network.gateway", gateway);
      int[] a = cidr(address);
      if (a == null) {
        throw new IllegalArgumentException(
            "network.address "
                + JsonFields.quote(address)
                + " is not an IPv4 address with a prefix length 1-31, like \"172.30.0.2/30\"");
      }
      int[] g = ipv4(gateway);
      if (g == null) {
        throw new IllegalArgumentException(
            "network.gateway "
                + JsonFields.quote(gateway)
                + " is not an IPv4 address, like \"172.30.0.1\"");
      }
      long mask = (0xffffffffL << (32 - a[4])) & 0xffffffffL;
      long addr = bits(a);
      long gw = bits(g);
      if ((addr & mask) != (gw & mask)) {
        throw new IllegalArgumentException(
            "network.gateway "
                + JsonFields.quote(gateway)
                + " is not in the subnet of network.address "
                + JsonFields.quote(address));
      }
      if (addr == gw) {
        throw new IllegalArgumentException(
            "network.gateway " + JsonFields.quote(gateway) + " is the guest's own address");
      }
      if (mtu < 68 || mtu > 65535) {
        throw new IllegalArgumentException("network.mtu must be 68 to 65535, not " + mtu);
      }
    }

    /**
     * Checks a MAC as the guest's NIC needs it: six lower-case hex bytes, not multicast (the low
     * bit of the first byte clear). {@code what} names the field in the message.
     */
    public static void checkMac(String what, String mac) {
      required(what, mac);
      if (!MAC.matcher(mac).matches() || (Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0) {
        throw new IllegalArgumentException(
            what
                + " "
                + JsonFields.quote(mac)
                + " is not a unicast MAC address of six lower-case hex bytes, like"
                + " \"02:42:ac:1e:00:02\"");
      }
    }

    /** The guest's address without its prefix length, e.g. "172.30.0.2". */
    public String ip() {
      return address.substring(0, address.indexOf('/'));
    }

    private static void required(String what, String v) {
      if (v == null) {
        throw new IllegalArgumentException(what + " is missing");
      }
    }

    /** "a.b.c.d" (init's parse_ipv4: 1-3 digits a part, each at most 255), or null. */
    private static int[] ipv4(String s) {
      String[] parts = s.split("\\.", -1);
      if (parts.length != 4) {
        return null;
      }
      int[] out = new int[5];
      for (int i = 0; i < 4; i++) {
        String p = parts[i];
        if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
          return null;
        }
        out[i] = Integer.parseInt(p);
        if (out[i] > 255) {
          return null;
        }
      }
      return out;
    }

    /** "a.b.c.d/n" with n in 1..31 as {a, b, c, d, n}, or null. */
    private static int[] cidr(String s) {
      int slash = s.indexOf('/');
      if (slash < 0) {
        return null;
      }
      int[] a = ipv4(s.substring(0, slash));
      String p = s.substring(slash + 1);
      if (a == null
          || p.isEmpty()
          || p.length() > 2
          || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return null;
      }
      a[4] = Integer.parseInt(p);
      return a[4] >= 1 && a[4] <= 31 ? a : null;
    }

    private static long bits(int[] a) {
      return ((long) a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
    }
  }

  /** A config with every default of §5 for this VM and process. */
  public static Builder builder(String vmId, ProcessSpec process) {
    return new Builder(vmId, process);
  }

  public Builder toBuilder() {
    return new Builder(vmId, process)
        .hostname(hostname)
        .root(root)
        .mounts(mounts)
        .transport(transport)
        .ports(ports)
        .stopTimeoutSecs(stopTimeoutSecs)
        .log(log)
        .metricsIntervalSecs(metricsIntervalSecs)
        .dns(dns)
        .hosts(hosts)
        .network(network);
  }

  /** The default hostname: the first 12 characters of the id, as Docker does. */
  public static String defaultHostname(String vmId) {
    return vmId.substring(0, Math.min(12, vmId.length()));
  }

  public static final class Builder {
    private final String vmId;
    private ProcessSpec process;
    private String hostname;
    private Root root = Root.DEFAULT;
    private List<Mount> mounts = List.of();
    private Transport transport = Transport.AUTO;
    private GuestPorts ports = GuestPorts.DEFAULT;
    private long stopTimeoutSecs = 10;
    private LogSettings log = LogSettings.DEFAULT;
    private long metricsIntervalSecs;
    private Dns dns = Dns.NONE;
    private List<String> hosts = List.of();
    private Network network;

    private Builder(String vmId, ProcessSpec process) {
      this.vmId = vmId;
      this.process = process;
      this.hostname = defaultHostname(vmId);
    }

    /** Another process (e.g. the same one with a terminal: {@link ProcessSpec#withTerminal}). */
    public Builder process(ProcessSpec v) {
      process = v;
      return this;
    }

    public Builder hostname(String v) {
      hostname = v;
      return this;
    }

    public Builder root(Root v) {
      root = v;
      return this;
    }

    /** Volumes and tmpfs, mounted in the order of their targets' depth (init sorts them). */
    public Builder mounts(List<Mount> v) {
      mounts = v;
      return this;
    }

    public Builder transport(Transport v) {
      transport = v;
      return this;
    }

    public Builder ports(GuestPorts v) {
      ports = v;
      return this;
    }

    public Builder stopTimeoutSecs(long v) {
      stopTimeoutSecs = v;
      return this;
    }

    public Builder log(LogSettings v) {
      log = v;
      return this;
    }

    public Builder metricsIntervalSecs(long v) {
      metricsIntervalSecs = v;
      return this;
    }

    public Builder dns(Dns v) {
      dns = v;
      return this;
    }

    public Builder hosts(List<String> v) {
      hosts = v;
      return this;
    }

    /** eth0's configuration; null (the default) leaves the guest with only {@code lo}. */
    public Builder network(Network v) {
      network = v;
      return this;
    }

    public RunConfig build() {
      return new RunConfig(
          vmId,
          hostname,
          process,
          root,
          mounts,
          transport,
          ports,
          stopTimeoutSecs,
          log,
          metricsIntervalSecs,
          dns,
          hosts,
          network);
    }
  }

  /** The JSON init reads (compact, every field explicit). */
  public String toJson() {
    return Json.write(toJsonTree());
  }

  public ObjectNode toJsonTree() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("version", VERSION);
    n.put("vm_id", vmId);
    n.put("hostname", hostname);
    ObjectNode p = n.putObject("process");
    strings(p.putArray("argv"), process.argv());
    strings(p.putArray("env"), process.env());
    p.put("workdir", process.workdir());
    p.put("user", process.user());
    p.put("stop_signal", process.stopSignal());
    p.put("tty", process.tty());
    p.put("stdin", process.stdin());
    if (process.consoleSize() == null) {
      p.putNull("console_size");
    } else {
      p.putArray("console_size")
          .add(process.consoleSize().rows())
          .add(process.consoleSize().cols());
    }
    ObjectNode r = n.putObject("root");
    r.put("image_device", root.imageDevice());
    r.put("writable_device", root.writableDevice());
    r.put("readonly", root.readonly());
    ArrayNode ms = n.putArray("mounts");
    for (Mount m : mounts) {
      ObjectNode o = ms.addObject();
      switch (m) {
        case Mount.Volume v ->
            o.put("type", "volume")
                .put("device", v.device())
                .put("target", v.target())
                .put("readonly", v.readonly());
        case Mount.Tmpfs t ->
            o.put("type", "tmpfs")
                .put("target", t.target())
                .put("size_bytes", t.sizeBytes())
                .put("mode", t.mode());
      }
    }
    n.put("transport", transport.label());
    n.putObject("ports")
        .put("logs", ports.logs())
        .put("exit", ports.exit())
        .put("metrics", ports.metrics())
        .put("control", ports.control())
        .put("session", ports.session());
    n.putObject("stop").put("timeout_secs", stopTimeoutSecs);
    n.putObject("log")
        .put("mode", log.mode().label())
        .put("buffer_bytes", log.bufferBytes())
        .put("drain_timeout_ms", log.drainTimeoutMs());
    n.put("metrics_interval_secs", metricsIntervalSecs);
    ObjectNode d = n.putObject("dns");
    strings(d.putArray("nameservers"), dns.nameservers());
    strings(d.putArray("search"), dns.search());
    strings(n.putArray("hosts"), hosts);
    if (network == null) {
      n.putNull("network");
    } else {
      n.putObject("network")
          .put("mac", network.mac())
          .put("address", network.address())
          .put("gateway", network.gateway())
          .put("mtu", network.mtu());
    }
    return n;
  }

  private static void strings(ArrayNode a, List<String> l) {
    l.forEach(a::add);
  }

  /** Parses run.json; a {@link ProtocolException} names the field, as init's error does. */
  public static RunConfig fromJson(String json) {
    JsonNode n;
    try {
      n = Json.MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new ProtocolException("not valid JSON: " + e.getOriginalMessage(), e);
    }
    return fromJson(n);
  }

  public static RunConfig fromJson(JsonNode node) {
    return fromJson(node, null);
  }

  /**
   * Parses a run config whose process the caller resolved already (kiln.json's {@code run}): every
   * field but {@code process} comes from {@code node}.
   */
  public static RunConfig fromJson(JsonNode node, ProcessSpec resolved) {
    try {
      return parse(node, resolved);
    } catch (IllegalArgumentException e) {
      throw new ProtocolException(e.getMessage(), e);
    }
  }

  private static RunConfig parse(JsonNode node, ProcessSpec resolved) {
    JsonFields top = JsonFields.of(node, "");
    Long version = top.u64("version");
    if (version == null) {
      throw new ProtocolException("version is missing (expected " + VERSION + ")");
    }
    if (version != VERSION) {
      throw new ProtocolException(
          "version " + version + " is not supported (kiln speaks version " + VERSION + ")");
    }
    String vmId = top.str("vm_id");
    if (vmId == null) {
      throw new ProtocolException("vm_id is missing");
    }
    ProcessSpec process = resolved != null ? resolved : process(top);
    Builder b = builder(vmId, process);
    String hostname = top.str("hostname");
    if (hostname != null) {
      b.hostname(hostname);
    }
    JsonFields r = top.obj("root");
    if (r != null) {
      String image = orDefault(r.str("image_device"), Root.DEFAULT.imageDevice());
      // explicit null = ephemeral VM (tmpfs upper); absent = the default disk
      String writable =
          r.has("writable_device") ? r.str("writable_device") : Root.DEFAULT.writableDevice();
      b.root(new Root(image, writable, orDefault(r.bool("readonly"), false)));
    }
    b.mounts(mounts(top));
    String t = top.str("transport");
    if (t != null) {
      b.transport(transport(t));
    }
    JsonFields ports = top.obj("ports");
    if (ports != null) {
      GuestPorts d = GuestPorts.DEFAULT;
      b.ports(
          new GuestPorts(
              ports.port("logs", d.logs()),
              ports.port("exit", d.exit()),
              ports.port("metrics", d.metrics()),
              ports.port("control", d.control()),
              ports.port("session", d.session())));
    }
    JsonFields stop = top.obj("stop");
    if (stop != null) {
      b.stopTimeoutSecs(orDefault(stop.u64("timeout_secs"), 10L));
    }
    JsonFields log = top.obj("log");
    if (log != null) {
      LogSettings d = LogSettings.DEFAULT;
      String mode = log.str("mode");
      LogMode m =
          switch (mode == null ? "block" : mode) {
            case "block" -> LogMode.BLOCK;
            case "drop" -> LogMode.DROP;
            default ->
                throw new ProtocolException(
                    "log.mode " + JsonFields.quote(mode) + " is not \"block\" or \"drop\"");
          };
      long buffer = orDefault(log.u64("buffer_bytes"), d.bufferBytes());
      b.log(
          new LogSettings(
              m, Math.min(buffer, 1L << 30), orDefault(log.u64("drain_timeout_ms"), 5000L)));
    }
    b.metricsIntervalSecs(orDefault(top.u64("metrics_interval_secs"), 0L));
    JsonFields dns = top.obj("dns");
    if (dns != null) {
      b.dns(new Dns(orEmpty(dns.strings("nameservers")), orEmpty(dns.strings("search"))));
    }
    b.hosts(orEmpty(top.strings("hosts")));
    JsonFields net = top.obj("network");
    if (net != null) {
      long mtu = orDefault(net.u64("mtu"), (long) Network.DEFAULT_MTU);
      if (mtu > 65535) {
        throw new ProtocolException("network.mtu must be 68 to 65535, not " + mtu);
      }
      b.network(new Network(net.str("mac"), net.str("address"), net.str("gateway"), (int) mtu));
    }
    return b.build();
  }

  private static List<Mount> mounts(JsonFields top) {
    List<JsonFields> list = top.objects("mounts");
    if (list == null) {
      return List.of();
    }
    List<Mount> out = new java.util.ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      JsonFields m = list.get(i);
      String type = m.str("type");
      try {
        out.add(
            switch (type == null ? "" : type) {
              case "volume" ->
                  new Mount.Volume(
                      m.str("device"), m.str("target"), orDefault(m.bool("readonly"), false));
              case "tmpfs" -> {
                // mode, target, size: init's order, so that both sides name the same first error
                Long mode = m.u64("mode");
                if (mode != null && mode > 4095) {
                  throw new IllegalArgumentException("mode must be 0 to 4095, not " + mode);
                }
                String target = m.str("target");
                Mount.checkTarget(target);
                Long size = m.u64("size_bytes");
                yield new Mount.Tmpfs(target, size, mode == null ? null : mode.intValue());
              }
              default ->
                  throw new ProtocolException(
                      type == null
                          ? "mounts[" + i + "].type is missing"
                          : "mounts["
                              + i
                              + "].type "
                              + JsonFields.quote(type)
                              + " is not \"volume\" or \"tmpfs\"");
            });
      } catch (IllegalArgumentException e) {
        throw new ProtocolException("mounts[" + i + "]." + e.getMessage(), e);
      }
    }
    return out;
  }

  private static ProcessSpec process(JsonFields top) {
    JsonFields p = top.obj("process");
    if (p == null) {
      throw new ProtocolException("process is missing");
    }
    List<String> argv = p.strings("argv");
    if (argv == null) {
      throw new ProtocolException("process.argv is missing");
    }
    return new ProcessSpec(
        argv,
        orEmpty(p.strings("env")),
        orDefault(p.str("workdir"), "/"),
        orDefault(p.str("user"), ProcessSpec.ROOT),
        orDefault(p.str("stop_signal"), ProcessSpec.DEFAULT_STOP_SIGNAL),
        orDefault(p.bool("tty"), false),
        orDefault(p.bool("stdin"), false),
        p.consoleSize("console_size"));
  }

  private static Transport transport(String t) {
    for (Transport x : Transport.values()) {
      if (x.label().equals(t)) {
        return x;
      }
    }
    throw new ProtocolException(
        "transport "
            + JsonFields.quote(t)
            + " is not one of \"auto\", \"vsock\", \"virtio-serial\"");
  }

  private static <T> T orDefault(T v, T d) {
    return v == null ? d : v;
  }

  private static List<String> orEmpty(List<String> v) {
    return v == null ? List.of() : v;
  }
}
