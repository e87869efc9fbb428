package dev.inferno.kiln.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.kiln.firecracker.Firecracker;
import dev.inferno.kiln.protocol.ProcessSpec;
import dev.inferno.kiln.protocol.ProtocolException;
import dev.inferno.kiln.protocol.RunConfig;
import dev.inferno.kiln.qemu.Qemu;
import dev.inferno.kiln.run.DockerRun;
import dev.inferno.kiln.run.ImageConfig;
import dev.inferno.kiln.run.Overrides;
import dev.inferno.kiln.vm.Nic;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Set;

/**
 * kiln.json: one VM for {@code kiln --config}. JSON with // comments; relative paths are relative
 * to the config file's directory. {@link #DEFAULT} is what {@code kiln --init} writes.
 */
public record KilnConfig(
    VmSpec spec, Qemu.Config qemu, Firecracker.Config firecracker, LogSinkConfig logSink) {

  /**
   * kiln.json {@code log_sink}: forward the VM's log records as NDJSON to a unix socket.
   *
   * @param socket the collector's unix stream socket (e.g. vector's socket source)
   * @param capacity lines queued while the collector is slow or away; more are dropped and counted
   */
  public record LogSinkConfig(Path socket, int capacity) {
    public static final int DEFAULT_CAPACITY = 10_000;
  }

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
          .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
          .build();

  private static final Set<String> KEYS =
      Set.of(
          "id",
          "state_dir",
          "kernel",
          "init",
          "image",
          "writable_disk_mib",
          "vcpus",
          "memory_mib",
          "stop_timeout_secs",
          "vmm",
          "qemu",
          "firecracker",
          "log_sink",
          "network",
          "run");

  public static final String DEFAULT =
      """
      // kiln.json: one microVM for `kiln --config kiln.json`.
      // Relative paths are relative to this file's directory. Comments (//) are allowed.
      {
        // VM id: 1-64 letters, digits or hyphens; also the jail and cgroup name.
        "id": "kiln-demo",
        // Per-VM state: spec.json, vmm.json, console.log, logs/, exit.json, the jail.
        // Must be new for every run (kiln refuses a state dir holding an earlier run).
        "state_dir": "kiln-state/kiln-demo",
        // Guest kernel (uncompressed vmlinux), built by kernel/build.sh.
        "kernel": "build/kernel/vmlinux",
        // Guest PID 1, built by init/build.sh; packed into the per-VM initramfs as /inferno/init.
        "init": "build/init/init",
        // Read-only root image (ext4), /dev/vda in the guest; null boots with no image.
        "image": null,
        // Writable disk (/dev/vdb, sparse ext4) in MiB; 0 keeps the overlay in guest memory.
        "writable_disk_mib": 0,
        "vcpus": 1,
        "memory_mib": 256,
        // After a stop request (Ctrl-C), how long the workload gets before the VMM is killed.
        "stop_timeout_secs": 10,
        // auto: Firecracker when KVM works and its binaries are installed, else QEMU.
        "vmm": "auto",
        "qemu": {
          "binary": "qemu-system-x86_64",
          // auto, kvm or tcg. A nested host whose /dev/kvm opens but cannot run guests needs tcg.
          "accel": "auto"
        },
        "firecracker": {
          "binary": "firecracker",
          // Without this binary Firecracker runs unjailed, with a loud warning.
          "jailer": "jailer",
          // Each VM runs as its own uid (= gid) from [uid_first, uid_first + uid_count).
          "uid_first": 40000,
          "uid_count": 10000,
          // cgroup v2 parent of the per-VM cgroups; memory.max = memory_mib + memory_headroom_mib.
          "parent_cgroup": "inferno",
          "memory_headroom_mib": 64
        },
        // Also forward the log records as NDJSON lines to a collector's unix socket (e.g. vector's
        // socket source, mode unix_stream): { "socket": "/run/vector.sock", "capacity": 10000 }.
        // The VM never waits for it: lines that do not fit in `capacity` are dropped and counted.
        "log_sink": null,
        // Attach the VM to a TAP you made: null = no network device, the guest has only lo.
        // e.g. { "tap": "tap0", "mac": "02:00:00:00:00:01", "address": "172.30.0.2/30",
        //        "gateway": "172.30.0.1", "mtu": 1500 } after
        //   ip tuntap add tap0 mode tap user 40000 group 40000   (the jailed uid: uid_first)
        //   ip addr add 172.30.0.1/30 dev tap0 && ip link set tap0 up
        // init gives the NIC with that MAC the address, the default route via gateway and the MTU.
        "network": null,
        // The guest's run config (docs/PROTOCOL.md section 5). kiln merges image_config (the image's
        // OCI config) and overrides (docker run's flags) as Docker does into the process init runs;
        // vm_id, hostname and root are filled in.
        "run": {
          "image_config": { "Cmd": ["/bin/sh", "-c", "echo hello from kiln"], "Env": [] },
          "overrides": { "entrypoint": null, "cmd": null, "env": [], "workdir": null, "user": null },
          "transport": "auto",
          "stop": { "signal": null, "timeout_secs": 10 },
          "log": { "mode": "block", "buffer_bytes": 1048576, "drain_timeout_ms": 5000 },
          "metrics_interval_secs": 0
        }
      }
      """;

  public static KilnConfig load(Path file, String vmmOverride) throws IOException {
    JsonNode n;
    try {
      n = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("cannot read " + file + ": " + e.getMessage(), e);
    }
    if (n == null || !n.isObject()) {
      throw new IOException(file + " is not a JSON object");
    }
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!KEYS.contains(k)) {
        throw new IOException(file + ": unknown setting \"" + k + "\" (known: " + KEYS + ")");
      }
    }
    Path base = file.toAbsolutePath().getParent();
    String id = n.path("id").asText("kiln-demo");
    long writableMib = n.path("writable_disk_mib").asLong(0);
    LogSinkConfig sink = logSink(file, base, n.path("log_sink"));
    RunConfig.Network net = null;
    Nic nic = null;
    if (!n.path("network").isMissingNode() && !n.path("network").isNull()) {
      net = network(file, n.get("network"));
      nic = nic(file, n.get("network").path("tap").asText(null), net.mac());
    }
    RunConfig run =
        runConfig(file, n.path("run"), id, n.path("image").isTextual(), writableMib).toBuilder()
            .network(net)
            .build();
    String vmm = vmmOverride != null ? vmmOverride : n.path("vmm").asText("auto");
    VmSpec spec =
        new VmSpec(
            id,
            path(base, n.path("kernel").asText("build/kernel/vmlinux")),
            path(base, n.path("init").asText("build/init/init")),
            run,
            n.path("image").isTextual() ? path(base, n.get("image").asText()) : null,
            writableMib << 20,
            n.path("vcpus").asInt(1),
            n.path("memory_mib").asInt(256),
            Duration.ofSeconds(n.path("stop_timeout_secs").asLong(10)),
            VmmKind.parse(vmm),
            path(base, n.path("state_dir").asText("kiln-state/" + id)),
            nic);
    JsonNode q = n.path("qemu");
    Qemu.Config qemu =
        new Qemu.Config(
            q.path("binary").asText("qemu-system-x86_64"),
            Qemu.Accel.parse(q.path("accel").asText("auto")));
    JsonNode f = n.path("firecracker");
    Firecracker.Config d = Firecracker.Config.defaults();
    Firecracker.Config fc =
        new Firecracker.Config(
            f.path("binary").asText(d.firecracker()),
            f.path("jailer").asText(d.jailer()),
            f.path("uid_first").asInt(d.uidFirst()),
            f.path("uid_count").asInt(d.uidCount()),
            f.path("parent_cgroup").asText(d.parentCgroup()),
            f.path("memory_headroom_mib").asInt(d.memoryHeadroomMib()),
            d.cgroupRoot(),
            d.apiTimeout());
    return new KilnConfig(spec, qemu, fc, sink);
  }

  /**
   * kiln.json {@code run}: the run config of PROTOCOL.md §5 with {@code image_config} and {@code
   * overrides} in place of the process, which {@link DockerRun} resolves.
   */
  private static RunConfig runConfig(
      Path file, JsonNode section, String id, boolean hasImage, long writableMib)
      throws IOException {
    ObjectNode run = section.isObject() ? section.deepCopy() : JSON.createObjectNode();
    try {
      ImageConfig image = section(run.remove("image_config"), ImageConfig.class, ImageConfig.EMPTY);
      Overrides overrides = section(run.remove("overrides"), Overrides.class, Overrides.NONE);
      if (run.path("stop").isObject()) {
        JsonNode signal = ((ObjectNode) run.get("stop")).remove("signal");
        if (signal != null && signal.isTextual()) {
          overrides = overrides.withStopSignal(signal.asText());
        }
      }
      if (run.has("network")) {
        throw new IOException(
            file + ": run.network is not a setting: use the top-level \"network\" (tap included)");
      }
      run.put("version", RunConfig.VERSION); // the version is kiln's to write
      run.put("vm_id", id);
      String hostname = run.path("hostname").asText(RunConfig.defaultHostname(id));
      ProcessSpec process = DockerRun.resolve(image, overrides, hostname);
      // with no image the writable disk is the first one
      RunConfig.Root root =
          new RunConfig.Root(
              "/dev/vda", writableMib > 0 ? (hasImage ? "/dev/vdb" : "/dev/vda") : null);
      return RunConfig.fromJson(run, process).toBuilder().root(root).build();
    } catch (IllegalArgumentException | ProtocolException | JsonProcessingException e) {
      String msg = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      throw new IOException(file + ": run: " + msg, e);
    }
  }

  private static final Set<String> NETWORK_KEYS = Set.of("tap", "mac", "address", "gateway", "mtu");

  /**
   * kiln.json {@code network}: the guest's side of the link (the run config's {@code network}); the
   * MAC is the user's to choose, as the TAP is (the daemon derives one per VM id, kiln does not).
   */
  private static RunConfig.Network network(Path file, JsonNode n) throws IOException {
    if (!n.isObject()) {
      throw new IOException(
          file
              + ": network must be null or {\"tap\": \"tap0\", \"mac\": \"02:00:00:00:00:01\","
              + " \"address\": \"172.30.0.2/30\", \"gateway\": \"172.30.0.1\", \"mtu\": 1500}");
    }
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!NETWORK_KEYS.contains(k)) {
        throw new IOException(
            file + ": unknown network setting \"" + k + "\" (known: " + NETWORK_KEYS + ")");
      }
    }
    JsonNode mtu = n.path("mtu");
    if (!mtu.isMissingNode()
        && !mtu.isNull()
        && !(mtu.isIntegralNumber() && mtu.canConvertToInt())) {
      throw new IOException(file + ": network.mtu must be 68 to 65535, not " + mtu);
    }
    try {
      return new RunConfig.Network(
          n.path("mac").asText(null),
          n.path("address").asText(null),
          n.path("gateway").asText(null),
          mtu.isIntegralNumber() ? mtu.asInt() : RunConfig.Network.DEFAULT_MTU);
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  private static Nic nic(Path file, String tap, String mac) throws IOException {
    if (tap == null) {
      throw new IOException(file + ": network.tap is missing: the TAP device the VM attaches to");
    }
    try {
      return new Nic(tap, mac);
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": network.tap: " + e.getMessage(), e);
    }
  }

  private static <T> T section(JsonNode n, Class<T> type, T absent) throws JsonProcessingException {
    return n == null || n.isNull() ? absent : JSON.treeToValue(n, type);
  }

  private static LogSinkConfig logSink(Path file, Path base, JsonNode s) throws IOException {
    if (s.isMissingNode() || s.isNull()) {
      return null;
    }
    if (!s.isObject() || !s.path("socket").isTextual()) {
      throw new IOException(
          file + ": log_sink must be null or {\"socket\": \"/path/to.sock\", \"capacity\": N}");
    }
    int capacity = s.path("capacity").asInt(LogSinkConfig.DEFAULT_CAPACITY);
    if (capacity < 1) {
      throw new IOException(file + ": log_sink.capacity must be at least 1");
    }
    return new LogSinkConfig(path(base, s.get("socket").asText()), capacity);
  }

  private static Path path(Path base, String p) {
    return base.resolve(p).normalize();
  }

  public static void writeDefault(Path file) throws IOException {
    if (Files.exists(file)) {
      throw new IOException(file + " exists: not overwriting it");
    }
    Files.writeString(file, DEFAULT);
  }
}
