package dev.inferno.daemon.config;

import dev.inferno.daemon.network.AddressPool;
import dev.inferno.daemon.network.Ipv4Cidr;
import dev.inferno.daemon.network.Nftables;
import dev.inferno.daemon.network.TapDevices;
import dev.inferno.daemon.volume.VolumeService;
import dev.inferno.model.units.Sizes;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The config file: {@code key = value} lines with {@code #} comments (Java properties syntax).
 * {@link #DEFAULT} is what {@code inferno init} writes; every key in it is documented there.
 */
public final class ConfigFile {
  /** Where {@code inferno init} writes and {@code inferno server} looks (a constant for --help). */
  public static final String DEFAULT_LOCATION = "/etc/inferno/inferno.conf";

  public static final Path DEFAULT_PATH = Path.of(DEFAULT_LOCATION);

  public static final String DEFAULT =
      """
      # inferno daemon configuration (written by `inferno init`).
      # Flags given to `inferno server` override these settings.
      # Sizes take a unit: b, k, m, g (binary). Lists are comma-separated.

      # Where the database, image store, disks, per-VM logs and jails live.
      state-dir = /var/lib/inferno

      # The API's unix socket, mode 0660 owned by root and this group (when the group exists;
      # create it with `groupadd inferno` and add the users who may run VMs).
      socket = /run/inferno/inferno.sock
      socket-group = inferno

      # The guest kernel (uncompressed vmlinux; kernel/build.sh makes one) and the guest init
      # (the static binary built from init/) packed into each VM's initramfs.
      kernel = /var/lib/inferno/kernel/vmlinux
      init = /var/lib/inferno/init/init

      # Which VMM runs VMs: auto (Firecracker when /dev/kvm and the binary are present, else
      # QEMU), firecracker or qemu. `inferno run --vmm` overrides it per VM.
      vmm = auto
      firecracker = /usr/local/bin/firecracker
      jailer = /usr/local/bin/jailer
      qemu = /usr/bin/qemu-system-x86_64
      # QEMU's accelerator: auto (KVM when /dev/kvm works, else TCG), kvm or tcg. Force tcg on a
      # nested host whose /dev/kvm opens but cannot run guests.
      qemu-accel = auto

      # Each jailed Firecracker runs as its own unprivileged uid/gid from this range.
      jail-uid-range = 900000-909999

      # What a VM gets when `inferno run` does not say (--cpus, -m, --stop-timeout).
      default-cpus = 1
      default-memory = 256m
      stop-timeout = 10

      # Per-VM log retention: files are rotated at log-max-size, log-max-files are kept.
      log-max-size = 64m
      log-max-files = 4

      # Forward every log record as NDJSON to this unix socket (e.g. vector.dev's socket
      # source); empty for none.
      log-sink =

      # Registries reached over plain HTTP (localhost always is). Example: 10.0.0.5:5000
      insecure-registries =

      # A tmpfs to unpack image layers into before the image disk is built, when it has room
      # (the unpacked tree is temporary: the disk itself lives in the state dir). Unpacking on
      # tmpfs is several times faster than on disk; empty to always unpack under the state dir.
      image-scratch = /dev/shm

      # Largest JSON request body the API accepts.
      max-request-body = 1m

      # Every VM gets a /30 from this IPv4 pool (its TAP holds .1, the guest .2): a /16 is 16384
      # VMs. It must not overlap a network the host routes; the daemon checks at start.
      network-pool = 172.30.0.0/16

      # The daemon's own nftables table (`table inet NAME`) and the name prefix of its VMs' TAPs
      # (1-3 letters; the TAP is the prefix + the VM id's first digits, 15 characters). Change them
      # only to run a second daemon on this host (tests, benchmarks) that must not touch the first
      # one's rules and devices; give that one another network-pool too.
      network-table = inferno
      network-tap-prefix = inf

      # A volume's size when `inferno volume create --size` does not say (and for the volumes
      # `run -v` makes): the ext4 image file is sparse, so it takes only what the VM writes.
      volume-size = 10g

      # Serve Prometheus metrics (per-VM state, CPU, memory, logs; the daemon's boots, pulls,
      # errors) over plain HTTP on /metrics at HOST:PORT; off unless set. Anyone who reaches it
      # sees VM names: keep it on 127.0.0.1 or a network you trust.
      # metrics-addr = 127.0.0.1:9323

      # Serve the Docker Engine API (docs/docker-api.md) on a second unix socket, with the same
      # mode, group and peer checks as `socket`: `DOCKER_HOST=unix://<path> docker run …` and
      # Testcontainers then run microVMs. Off unless set.
      # docker-socket = /run/inferno/docker.sock
      """;

  private static final Set<String> KEYS =
      Set.of(
          "state-dir",
          "socket",
          "socket-group",
          "kernel",
          "init",
          "vmm",
          "firecracker",
          "jailer",
          "qemu",
          "jail-uid-range",
          "default-cpus",
          "default-memory",
          "stop-timeout",
          "log-max-size",
          "log-max-files",
          "log-sink",
          "insecure-registries",
          "image-scratch",
          "max-request-body",
          "network-pool",
          "network-table",
          "network-tap-prefix",
          "qemu-accel",
          "volume-size",
          "metrics-addr",
          "docker-socket");

  private ConfigFile() {}

  /** Writes the default config; refuses to overwrite an existing file. */
  public static void writeDefault(Path file) throws IOException {
    if (Files.exists(file)) {
      throw new IOException(file + " already exists: remove it first to write a fresh default");
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(file, DEFAULT, StandardCharsets.UTF_8);
  }

  /** Reads a config file (missing keys take the defaults). */
  public static Map<String, String> read(Path file) throws IOException {
    Map<String, String> m = parse(DEFAULT);
    if (file != null) {
      if (!Files.exists(file)) {
        throw new IOException(
            "config file "
                + file
                + " does not exist: create one with `inferno init -p "
                + file
                + "`");
      }
      m.putAll(parse(Files.readString(file, StandardCharsets.UTF_8)));
    }
    return m;
  }

  static Map<String, String> parse(String text) throws IOException {
    Properties p = new Properties();
    try (Reader r = new StringReader(text)) {
      p.load(r);
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (String k : p.stringPropertyNames()) {
      if (!KEYS.contains(k)) {
        throw new IOException("unknown setting \"" + k + "\" in the config file");
      }
      m.put(k, p.getProperty(k).trim());
    }
    return m;
  }

  /** Builds the config from settings (file values with flags already applied). */
  public static DaemonConfig build(Map<String, String> s) throws IOException {
    try {
      String[] range = s.get("jail-uid-range").split("-", -1);
      if (range.length != 2) {
        throw new IllegalArgumentException("jail-uid-range must look like 900000-909999");
      }
      int first = Integer.parseInt(range[0].trim());
      int last = Integer.parseInt(range[1].trim());
      if (first <= 0 || last < first) {
        throw new IllegalArgumentException("jail-uid-range must be a non-empty range above 0");
      }
      String vmm = s.get("vmm");
      if (!Set.of("auto", "firecracker", "qemu").contains(vmm)) {
        throw new IllegalArgumentException("vmm must be auto, firecracker or qemu, not " + vmm);
      }
      String accel = s.get("qemu-accel");
      if (!Set.of("auto", "kvm", "tcg").contains(accel)) {
        throw new IllegalArgumentException("qemu-accel must be auto, kvm or tcg, not " + accel);
      }
      if (Sizes.parse(s.get("log-max-size")) < 4096
          || Integer.parseInt(s.get("log-max-files")) < 1) {
        throw new IllegalArgumentException(
            "log-max-size must be at least 4k and log-max-files at least 1");
      }
      int cpus = Integer.parseInt(s.get("default-cpus"));
      if (cpus < 1) {
        throw new IllegalArgumentException("default-cpus must be at least 1");
      }
      Path docker = optionalPath(s.get("docker-socket"));
      if (docker != null
          && docker
              .toAbsolutePath()
              .normalize()
              .equals(Path.of(s.get("socket")).toAbsolutePath().normalize())) {
        throw new IllegalArgumentException(
            "docker-socket must differ from socket (" + docker + "): give it a path of its own");
      }
      return new DaemonConfig(
          Path.of(s.get("state-dir")),
          Path.of(s.get("socket")),
          s.get("socket-group"),
          Path.of(s.get("kernel")),
          Path.of(s.get("init")),
          vmm,
          Path.of(s.get("firecracker")),
          Path.of(s.get("jailer")),
          Path.of(s.get("qemu")),
          first,
          last,
          cpus,
          Sizes.parse(s.get("default-memory")),
          Integer.parseInt(s.get("stop-timeout")),
          Sizes.parse(s.get("log-max-size")),
          Integer.parseInt(s.get("log-max-files")),
          s.get("log-sink").isEmpty() ? null : Path.of(s.get("log-sink")),
          list(s.get("insecure-registries")),
          s.get("image-scratch").isEmpty() ? null : Path.of(s.get("image-scratch")),
          accel,
          Sizes.parse(s.get("max-request-body")),
          network(s.get("network-table"), s.get("network-pool"), s.get("network-tap-prefix")),
          volumeSize(s.get("volume-size")),
          metricsAddr(s.get("metrics-addr")),
          docker);
    } catch (IllegalArgumentException e) {
      throw new IOException("bad config: " + e.getMessage(), e);
    }
  }

  /**
   * The host side of the VMs' network, checked: the pool a prefix with no host bits, large enough
   * for one VM's /30; the table a valid nftables name; the prefix short enough that a TAP keeps 12
   * digits of the VM id.
   */
  private static Nftables.Config network(String table, String pool, String tapPrefix) {
    Ipv4Cidr cidr;
    try {
      cidr = new AddressPool(Ipv4Cidr.parse(pool)).pool();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("network-pool: " + e.getMessage(), e);
    }
    TapDevices.prefixProblem(tapPrefix)
        .ifPresent(p -> {
          throw new IllegalArgumentException("network-tap-prefix: " + p);
        });
    Nftables.Config.tableProblem(table)
        .ifPresent(p -> {
          throw new IllegalArgumentException("network-table: " + p);
        });
    return new Nftables.Config(table, cidr, tapPrefix, false);
  }

  private static long volumeSize(String v) {
    long size = Sizes.parse(v);
    if (size < VolumeService.MIN_SIZE) {
      throw new IllegalArgumentException(
          "volume-size must be at least " + (VolumeService.MIN_SIZE >> 20) + "m");
    }
    return size;
  }

  /** A path setting that is off when unset or empty. */
  private static Path optionalPath(String v) {
    return v == null || v.isBlank() ? null : Path.of(v);
  }

  /** {@code metrics-addr}: HOST:PORT (IPv6 in brackets), or null when unset or empty (off). */
  static String metricsAddr(String v) {
    if (v == null || v.isBlank()) {
      return null;
    }
    int colon = v.lastIndexOf(':');
    String host = colon < 0 ? "" : v.substring(0, colon);
    int port;
    try {
      port = colon < 0 ? -1 : Integer.parseInt(v.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (host.isEmpty()
        || port < 0
        || port > 65535
        || (host.contains(":") && !host.startsWith("["))) {
      throw new IllegalArgumentException(
          "metrics-addr must be HOST:PORT (e.g. 127.0.0.1:9323, [::1]:9323), not " + v);
    }
    return v.trim();
  }

  private static List<String> list(String v) {
    List<String> out = new ArrayList<>();
    for (String x : Arrays.asList(v.split(","))) {
      if (!x.isBlank()) {
        out.add(x.trim());
      }
    }
    return out;
  }
}
