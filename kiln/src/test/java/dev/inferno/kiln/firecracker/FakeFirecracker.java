package dev.inferno.kiln.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;

/**
 * A faithful fake of the firecracker binary, for hosts without KVM. Serves the API on --api-sock
 * (HTTP/1.1 over a unix socket), validating bodies against the swagger's properties and required
 * fields (unknown fields are rejected, as Firecracker's serde does), enforcing pre-/post-boot
 * rules, creating the vsock uds on PUT /vsock, honouring the hybrid vsock CONNECT/OK handshake, and
 * SendCtrlAltDel, and PATCH /vm (pause: the guest answers nothing and a Ctrl-Alt-Del waits until
 * the resume). Its "guest" reads run.json from the initramfs and acts by its mode (argv[0],
 * TestGuest.runConfig): "exit" (report and reboot at once), "cad" (stop on SendCtrlAltDel or a
 * CONTROL stop), "hang" (ignore). Once booted, its session port (10004) runs exec sessions whose
 * command is {@code echo} (the arguments and a newline on stdout, exit 0); any other command is not
 * found (CLOSED 127).
 *
 * <p>Metrics as docs/metrics.md describes them: after {@code PUT /metrics} ({@code metrics_path}),
 * one JSON object per line is appended at every flush: on {@code PUT /actions FlushMetrics}, every
 * 60 s once the VM started, and when the VMM exits; the counters are deltas since the previous
 * flush, under Firecracker's field names ({@code utc_timestamp_ms}, {@code put_api_requests},
 * {@code vcpu}, {@code vmm} …).
 *
 * <p>Environment (set by the test's wrapper script or the fake jailer): FAKE_FC_LOG request log,
 * FAKE_CHROOT where absolute paths resolve (the jailer's chroot, which a JVM cannot enter),
 * FAKE_FC_METRICS_PERIOD_MS the periodic flush (60000 like Firecracker unless a test shortens it).
 */
public final class FakeFirecracker {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Schema subset of src/firecracker/swagger/firecracker.yaml: property → type, and required. */
  record Schema(Map<String, String> props, Set<String> required) {}

  static final Map<String, Schema> SCHEMAS =
      Map.of(
          "Logger",
          new Schema(
              Map.of(
                  "level", "string",
                  "log_path", "string",
                  "show_level", "boolean",
                  "show_log_origin", "boolean",
                  "module", "string"),
              Set.of()),
          "Metrics",
          new Schema(Map.of("metrics_path", "string"), Set.of("metrics_path")),
          "BootSource",
          new Schema(
              Map.of("boot_args", "string", "initrd_path", "string", "kernel_image_path", "string"),
              Set.of("kernel_image_path")),
          "Drive",
          new Schema(
              Map.of(
                  "drive_id", "string",
                  "partuuid", "string",
                  "is_root_device", "boolean",
                  "cache_type", "string",
                  "is_read_only", "boolean",
                  "path_on_host", "string",
                  "rate_limiter", "object",
                  "io_engine", "string",
                  "socket", "string"),
              Set.of("drive_id", "is_root_device")),
          "MachineConfiguration",
          new Schema(
              Map.of(
                  "cpu_template", "string",
                  "smt", "boolean",
                  "mem_size_mib", "integer",
                  "track_dirty_pages", "boolean",
                  "vcpu_count", "integer",
                  "huge_pages", "string"),
              Set.of("mem_size_mib", "vcpu_count")),
          "Vsock",
          new Schema(
              Map.of("guest_cid", "integer", "uds_path", "string", "vsock_id", "string"),
              Set.of("guest_cid", "uds_path")),
          "SerialDevice",
          new Schema(Map.of("serial_out_path", "string", "rate_limiter", "object"), Set.of()),
          "InstanceActionInfo",
          new Schema(Map.of("action_type", "string"), Set.of("action_type")),
          "Vm",
          new Schema(Map.of("state", "string"), Set.of("state")),
          "NetworkInterface",
          new Schema(
              Map.of(
                  "guest_mac", "string",
                  "host_dev_name", "string",
                  "iface_id", "string",
                  "rx_rate_limiter", "object",
                  "tx_rate_limiter", "object"),
              Set.of("host_dev_name", "iface_id")));

  private final Path chroot;
  private final Path requestLog;
  private final Map<String, JsonNode> config = new ConcurrentHashMap<>();
  private final Map<String, JsonNode> drives = new ConcurrentHashMap<>();
  private final Map<String, JsonNode> nics = new ConcurrentHashMap<>();
  private volatile boolean started;
  // PATCH /vm: the vCPUs stand still; a Ctrl-Alt-Del meanwhile waits in the i8042 for the resume
  private volatile boolean paused;
  private volatile boolean cadPending;
  private final Object pauseLock = new Object();
  private volatile String mode = "exit";
  private volatile int exitCode;
  private final Map<Integer, Boolean> guestListening = new ConcurrentHashMap<>();
  private volatile String vmId = "unknown";
  private volatile SocketChannel exitChannel;
  private volatile Path metricsPath;
  private final long metricsPeriodMs;
  // deltas since the last flush, as Firecracker's SharedIncMetric counters report them
  // its own lock, not the fake's monitor: System.exit runs under that, and the exit flush (a
  // shutdown hook) would wait for it forever
  private final Object metricsLock = new Object();
  private final Map<String, long[]> putRequests = new java.util.TreeMap<>(); // name → count, fails
  private long flushes;

  private FakeFirecracker(Path chroot, Path requestLog, long metricsPeriodMs) {
    this.chroot = chroot;
    this.requestLog = requestLog;
    this.metricsPeriodMs = metricsPeriodMs;
  }

  public static void main(String[] args) throws Exception {
    String apiSock = "/run/firecracker.socket";
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--api-sock")) {
        apiSock = args[++i];
      } else if (a.equals("--id")) {
        i++;
      } else if (a.startsWith("--id=")
          || a.startsWith("--start-time-us=")
          || a.startsWith("--start-time-cpu-us=")) {
        continue;
      } else {
        System.err.println(
            "Arguments parsing error: Found argument '" + a + "' which wasn't expected");
        System.exit(1);
      }
    }
    String root = System.getenv("FAKE_CHROOT");
    String log = System.getenv("FAKE_FC_LOG");
    String period = System.getenv("FAKE_FC_METRICS_PERIOD_MS");
    FakeFirecracker fc =
        new FakeFirecracker(
            root == null ? null : Path.of(root),
            log == null ? null : Path.of(log),
            period == null ? 60_000 : Long.parseLong(period));
    // Firecracker writes its metrics one last time on the way out
    Runtime.getRuntime().addShutdownHook(new Thread(fc::flushMetrics));
    fc.serve(fc.resolve(apiSock));
  }

  Path resolve(String p) {
    Path path = Path.of(p);
    if (path.isAbsolute() && chroot != null) {
      return chroot.resolve(p.substring(1));
    }
    return path.toAbsolutePath();
  }

  private void serve(Path apiSock) throws IOException {
    if (Files.exists(apiSock)) {
      System.err.println("Failed to open the API socket at " + apiSock + ": Address in use");
      System.exit(1);
    }
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(apiSock));
    while (true) {
      SocketChannel c = server.accept();
      Thread.ofVirtual().start(() -> handleConnection(c));
    }
  }

  private void handleConnection(SocketChannel c) {
    try (c;
        InputStream in = Channels.newInputStream(c);
        OutputStream out = Channels.newOutputStream(c)) {
      while (true) {
        String requestLine = readLine(in);
        if (requestLine == null || requestLine.isEmpty()) {
          return;
        }
        int length = 0;
        String line;
        while ((line = readLine(in)) != null && !line.isEmpty()) {
          int colon = line.indexOf(':');
          if (line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
            length = Integer.parseInt(line.substring(colon + 1).trim());
          }
        }
        byte[] body = in.readNBytes(length);
        String[] parts = requestLine.split(" ");
        String b = new String(body, StandardCharsets.UTF_8);
        log(parts[0] + " " + parts[1] + " " + b);
        Reply r;
        synchronized (this) {
          // counted as the request arrives, so a FlushMetrics shows in the line it writes
          String counter = parts[0].equals("PUT") ? putCounter(parts[1]) : null;
          if (counter != null) {
            synchronized (metricsLock) {
              putRequests.computeIfAbsent(counter, k -> new long[2])[0]++;
            }
          }
          r = handle(parts[0], parts[1], b);
          if (counter != null && r.status >= 400) {
            synchronized (metricsLock) {
              putRequests.computeIfAbsent(counter, k -> new long[2])[1]++;
            }
          }
        }
        String resp =
            "HTTP/1.1 "
                + r.status
                + (r.status == 204 ? " No Content" : r.status == 200 ? " OK" : " Bad Request")
                + "\r\nServer: Firecracker API\r\nConnection: keep-alive\r\n"
                + (r.body == null
                    ? "\r\n"
                    : "Content-Type: application/json\r\nContent-Length: "
                        + r.body.getBytes(StandardCharsets.UTF_8).length
                        + "\r\n\r\n"
                        + r.body);
        out.write(resp.getBytes(StandardCharsets.UTF_8));
        out.flush();
        if ("exit-now".equals(r.after)) {
          System.exit(0);
        }
      }
    } catch (IOException e) {
      // client went away
    }
  }

  private void log(String s) {
    if (requestLog == null) {
      return;
    }
    try {
      Files.writeString(requestLog, s + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  record Reply(int status, String body, String after) {
    static Reply ok() {
      return new Reply(204, null, null);
    }

    static Reply fault(String message) {
      return new Reply(400, JSON.createObjectNode().put("fault_message", message).toString(), null);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int ch;
    while ((ch = in.read()) >= 0) {
      if (ch == '\n') {
        String s = b.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(ch);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.US_ASCII);
  }

  /** Validates against a schema like serde with deny_unknown_fields; null when valid. */
  static String validate(String schemaName, JsonNode body) {
    Schema s = SCHEMAS.get(schemaName);
    if (body == null || !body.isObject()) {
      return "An error occurred when deserializing the json body of a request: expected struct "
          + schemaName;
    }
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      String type = s.props().get(f);
      if (type == null) {
        return "An error occurred when deserializing the json body of a request: unknown field `"
            + f
            + "`, expected one of "
            + String.join(
                ", ", s.props().keySet().stream().sorted().map(k -> "`" + k + "`").toList());
      }
      JsonNode v = body.get(f);
      boolean typeOk =
          switch (type) {
            case "string" -> v.isTextual();
            case "boolean" -> v.isBoolean();
            case "integer" -> v.isIntegralNumber();
            default -> v.isObject();
          };
      if (!typeOk) {
        return "An error occurred when deserializing the json body of a request: invalid type for `"
            + f
            + "`, expected "
            + type;
      }
    }
    for (String r : s.required()) {
      if (!body.has(r)) {
        return "An error occurred when deserializing the json body of a request: missing field `"
            + r
            + "`";
      }
    }
    return null;
  }

  private Reply handle(String method, String path, String bodyText) {
    JsonNode body;
    try {
      body = bodyText.isEmpty() ? null : JSON.readTree(bodyText);
    } catch (IOException e) {
      return Reply.fault(
          "An error occurred when deserializing the json body of a request: " + e.getMessage());
    }
    if (method.equals("GET") && path.equals("/")) {
      return new Reply(
          200,
          JSON.createObjectNode()
              .put("id", "anonymous-instance")
              .put("state", paused ? "Paused" : started ? "Running" : "Not started")
              .put("vmm_version", "1.14.0")
              .put("app_name", "Firecracker")
              .toString(),
          null);
    }
    if (method.equals("PATCH") && path.equals("/vm")) {
      return patchVm(body);
    }
    if (!method.equals("PUT")) {
      return Reply.fault("Invalid request method and/or path: " + method + " " + path + ".");
    }
    String schema =
        switch (path) {
          case "/logger" -> "Logger";
          case "/metrics" -> "Metrics";
          case "/boot-source" -> "BootSource";
          case "/machine-config" -> "MachineConfiguration";
          case "/vsock" -> "Vsock";
          case "/serial" -> "SerialDevice";
          case "/actions" -> "InstanceActionInfo";
          default ->
              path.startsWith("/drives/")
                  ? "Drive"
                  : path.startsWith("/network-interfaces/") ? "NetworkInterface" : null;
        };
    if (schema == null) {
      return Reply.fault("Invalid request method and/or path: " + method + " " + path + ".");
    }
    String invalid = validate(schema, body);
    if (invalid != null) {
      return Reply.fault(invalid);
    }
    if (schema.equals("InstanceActionInfo")) {
      return action(body.get("action_type").asText());
    }
    if (started) {
      return Reply.fault("The requested operation is not supported after starting the microVM.");
    }
    switch (schema) {
      case "Logger", "Metrics" -> {
        if (config.containsKey(path)) {
          return Reply.fault(
              (schema.equals("Logger") ? "Logger" : "Metrics system")
                  + " was already initialized.");
        }
        String p = body.path(schema.equals("Logger") ? "log_path" : "metrics_path").asText(null);
        if (p != null && !Files.exists(resolve(p))) {
          return Reply.fault("Cannot open " + p + ": No such file or directory (os error 2)");
        }
        if (schema.equals("Metrics")) {
          metricsPath = resolve(p);
        }
        if (schema.equals("Logger")
            && body.has("level")
            && !List.of("error", "warning", "info", "debug", "trace", "off")
                .contains(body.get("level").asText().toLowerCase(Locale.ROOT))) {
          return Reply.fault("Invalid log level: " + body.get("level").asText());
        }
      }
      case "BootSource" -> {
        for (String f : List.of("kernel_image_path", "initrd_path")) {
          if (body.has(f) && !Files.isReadable(resolve(body.get(f).asText()))) {
            return Reply.fault("Failed to open " + f + ": No such file or directory (os error 2)");
          }
        }
      }
      case "Drive" -> {
        String id = path.substring("/drives/".length());
        if (!id.equals(body.get("drive_id").asText())) {
          return Reply.fault("The id from the path does not match the id from the body!");
        }
        if (!Files.exists(resolve(body.path("path_on_host").asText("")))) {
          return Reply.fault(
              "Unable to create the block device: BackingFile(Os { code: 2, kind: NotFound })");
        }
        drives.put(id, body);
      }
      case "NetworkInterface" -> {
        Reply bad = networkInterface(path.substring("/network-interfaces/".length()), body);
        if (bad != null) {
          return bad;
        }
      }
      case "MachineConfiguration" -> {
        int v = body.get("vcpu_count").asInt();
        if (v < 1 || v > 32 || (v > 1 && v % 2 != 0)) {
          return Reply.fault(
              "The vCPU number is invalid! The vCPU number can only be 1 or an even number when SMT is enabled.");
        }
      }
      case "Vsock" -> {
        if (body.get("guest_cid").asInt() < 3) {
          return Reply.fault("Invalid guest CID");
        }
        Path uds = resolve(body.get("uds_path").asText());
        try {
          ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
          s.bind(UnixDomainSocketAddress.of(uds));
          Thread.ofVirtual().start(() -> vsockAccept(s, uds));
        } catch (IOException e) {
          return Reply.fault(
              "Cannot create backend for vsock device: UnixBind(Os { code: 98, kind: AddrInUse, message: \"Address in use\" })");
        }
      }
      default -> {}
    }
    config.put(path, body);
    return Reply.ok();
  }

  /**
   * {@code PATCH /vm} (swagger's Vm: {@code state} "Paused" or "Resumed"): only once started;
   * pausing a paused VM or resuming a running one succeeds and changes nothing, as Firecracker's
   * vmm does.
   */
  private Reply patchVm(JsonNode body) {
    String invalid = validate("Vm", body);
    if (invalid != null) {
      return Reply.fault(invalid);
    }
    String state = body.get("state").asText();
    if (!state.equals("Paused") && !state.equals("Resumed")) {
      return Reply.fault(
          "An error occurred when deserializing the json body of a request: unknown variant `"
              + state
              + "`, expected `Paused` or `Resumed`");
    }
    if (!started) {
      return Reply.fault("The requested operation is not supported before starting the microVM.");
    }
    synchronized (pauseLock) {
      paused = state.equals("Paused");
      pauseLock.notifyAll();
    }
    console("fake-guest: vcpus " + (paused ? "paused" : "resumed"));
    if (!paused && cadPending) {
      cadPending = false;
      return guestStop("SendCtrlAltDel");
    }
    return Reply.ok();
  }

  /** The guest side blocks here while the vCPUs are paused. */
  private void awaitRunning() {
    synchronized (pauseLock) {
      while (paused) {
        try {
          pauseLock.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /**
   * Firecracker opens the TAP at this call (Tap::open_named, TUNSETIFF on /dev/net/tun): the name
   * must fit IFNAMSIZ, and a process without CAP_NET_ADMIN (the jailed one) may attach only to an
   * existing TAP whose owner is its uid or group its gid. The fake is stricter in one way: it never
   * creates a TAP (Firecracker as root would make an unconfigured one).
   */
  private Reply networkInterface(String id, JsonNode body) {
    if (!id.equals(body.get("iface_id").asText())) {
      return Reply.fault("The id from the path does not match the id from the body!");
    }
    String mac = body.path("guest_mac").asText(null);
    if (mac != null && !mac.matches("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")) {
      return Reply.fault(
          "An error occurred when deserializing the json body of a request: invalid MAC address "
              + mac);
    }
    String tap = body.get("host_dev_name").asText();
    for (Map.Entry<String, JsonNode> other : nics.entrySet()) {
      if (other.getKey().equals(id)) {
        continue;
      }
      if (mac != null && mac.equalsIgnoreCase(other.getValue().path("guest_mac").asText())) {
        return Reply.fault("The MAC address is already in use: " + mac);
      }
      if (tap.equals(other.getValue().get("host_dev_name").asText())) {
        return Reply.fault(
            "Could not create the network device: Open tap device failed: Error while creating"
                + " ifreq structure: Device or resource busy (os error 16). Invalid TUN/TAP Backend"
                + " provided by "
                + tap
                + ". Check our documentation on setting up the network devices.");
      }
    }
    Path sys = Path.of("/sys/class/net", tap);
    String why = null;
    if (tap.isEmpty() || tap.length() >= 16 || tap.contains("/")) {
      why = "Invalid argument (os error 22)";
    } else if (!Files.exists(sys.resolve("tun_flags"))) {
      why = "No such device (os error 19)"; // the fake makes no TAP
    } else if (System.getenv("FAKE_UID") != null) {
      String uid = System.getenv("FAKE_UID");
      if (!uid.equals(sysValue(sys.resolve("owner")))
          && !uid.equals(sysValue(sys.resolve("group")))) {
        why = "Operation not permitted (os error 1)";
      }
    }
    if (why != null) {
      return Reply.fault(
          "Cannot open/create the tap device: Open tap device failed: Error while creating ifreq"
              + " structure: "
              + why
              + ". Invalid TUN/TAP Backend provided by "
              + tap
              + ". Check our documentation on setting up the network devices.");
    }
    nics.put(id, body);
    return null;
  }

  private static String sysValue(Path p) {
    try {
      return Files.readString(p).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private Reply action(String type) {
    switch (type) {
      case "InstanceStart" -> {
        if (started) {
          return Reply.fault(
              "The requested operation is not supported after starting the microVM.");
        }
        if (!config.containsKey("/boot-source")) {
          return Reply.fault("Cannot start microvm without kernel configuration.");
        }
        started = true;
        Thread.ofPlatform()
            .daemon()
            .start(() -> {
              while (true) {
                try {
                  Thread.sleep(metricsPeriodMs);
                } catch (InterruptedException e) {
                  return;
                }
                flushMetrics();
              }
            });
        boot();
        return "exit".equals(mode) ? new Reply(204, null, "exit-now") : Reply.ok();
      }
      case "SendCtrlAltDel" -> {
        if (!started) {
          return Reply.fault(
              "The requested operation is not supported before starting the microVM.");
        }
        if (paused) {
          cadPending = true; // delivered when the vCPUs run again
          return Reply.ok();
        }
        return guestStop("SendCtrlAltDel");
      }
      case "FlushMetrics" -> {
        if (metricsPath == null) {
          return Reply.fault("Failed to flush metrics: Metrics system was never initialized.");
        }
        synchronized (metricsLock) {
          flushes++;
          writeMetrics();
        }
        return Reply.ok();
      }
      default -> {
        return Reply.fault(
            "unknown variant `"
                + type
                + "`, expected one of `FlushMetrics`, `InstanceStart`, `SendCtrlAltDel`");
      }
    }
  }

  /**
   * The guest asked to stop: in "cad" mode it reports 143 (SIGTERM to the workload) and reboots.
   */
  private Reply guestStop(String how) {
    console("fake-guest: " + how + " received");
    if ("cad".equals(mode)) {
      String line = exitLine(143, 15);
      SocketChannel exit = exitChannel;
      if (exit != null) {
        // like init: EXIT on the exit channel, wait (bounded) for EXIT_ACK
        try {
          writeFully(
              exit,
              frame(
                  0x04, line.substring("INFERNO-EXIT ".length()).getBytes(StandardCharsets.UTF_8)));
          ByteBuffer ack = ByteBuffer.allocate(16);
          long deadline = System.nanoTime() + 5_000_000_000L;
          while (ack.hasRemaining() && System.nanoTime() < deadline && exit.read(ack) >= 0) {
            // read until the 16-byte EXIT_ACK header is in
          }
          console("fake-guest: exit acked=" + (!ack.hasRemaining() && ack.get(3) == 0x05));
        } catch (IOException e) {
          console("fake-guest: exit channel failed: " + e.getMessage());
        }
      }
      console(line);
      return new Reply(204, null, "exit-now");
    }
    return Reply.ok();
  }

  /** The put_api_requests counter of a path (Firecracker's names), or null. */
  private static String putCounter(String path) {
    return switch (path.startsWith("/drives/") ? "/drives" : path) {
      case "/actions" -> "actions";
      case "/boot-source" -> "boot_source";
      case "/drives" -> "drive";
      case "/logger" -> "logger";
      case "/machine-config" -> "machine_cfg";
      case "/metrics" -> "metrics";
      case "/vsock" -> "vsock";
      default -> null;
    };
  }

  /** Appends one metrics line and starts the next deltas. */
  private void flushMetrics() {
    synchronized (metricsLock) {
      writeMetrics();
    }
  }

  private void writeMetrics() {
    Path p = metricsPath;
    if (p == null) {
      return;
    }
    var m = JSON.createObjectNode();
    m.put("utc_timestamp_ms", System.currentTimeMillis());
    m.putObject("api_server")
        .put("process_startup_time_us", 0)
        .put("process_startup_time_cpu_us", 0);
    var put = m.putObject("put_api_requests");
    putRequests.forEach((name, c) -> put.put(name + "_count", c[0]).put(name + "_fails", c[1]));
    m.putObject("vcpu")
        .put("exit_io_in", 0)
        .put("exit_io_out", 0)
        .put("exit_mmio_read", 0)
        .put("exit_mmio_write", 0)
        .put("failures", 0);
    m.putObject("vmm").put("device_events", flushes).put("panic_count", 0);
    putRequests.clear();
    flushes = 0;
    try {
      Files.writeString(p, m + "\n", StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.err.println("Failed to write metrics: " + e.getMessage());
    }
  }

  private static String exitLine(int code, Integer signal) {
    return "INFERNO-EXIT {\"code\":"
        + code
        + ",\"signal\":"
        + signal
        + ",\"oom\":false,\"started_ns\":1,\"finished_ns\":2,\"error\":null}";
  }

  private void console(String line) {
    JsonNode serial = config.get("/serial");
    if (serial == null || !serial.has("serial_out_path")) {
      return;
    }
    try {
      Files.writeString(
          resolve(serial.get("serial_out_path").asText()),
          line + "\n",
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** "Boots": reads run.json from the initramfs, then behaves like init on the guest side. */
  private void boot() {
    JsonNode bs = config.get("/boot-source");
    String vmId = "unknown";
    try (CpioArchiveInputStream cpio =
        new CpioArchiveInputStream(Files.newInputStream(resolve(bs.get("initrd_path").asText())))) {
      CpioArchiveEntry e;
      while ((e = cpio.getNextEntry()) != null) {
        if (e.getName().equals("inferno/run.json")) {
          JsonNode run = JSON.readTree(cpio.readAllBytes());
          // TestGuest.runConfig: argv is [mode, exit code]
          mode = run.at("/process/argv/0").asText("exit");
          exitCode = run.at("/process/argv/1").asInt(0);
          vmId = run.path("vm_id").asText("unknown");
          this.vmId = vmId;
        }
      }
    } catch (IOException e) {
      console("fake-guest: cannot read initramfs: " + e.getMessage());
    }
    console(
        "fake-guest: booted "
            + bs.path("kernel_image_path").asText()
            + " args="
            + bs.path("boot_args").asText());
    console("fake-guest: drives " + drives.keySet().stream().sorted().toList());
    if ("exit".equals(mode)) {
      console(exitLine(exitCode, null));
      return;
    }
    JsonNode vsock = config.get("/vsock");
    if (vsock == null) {
      return;
    }
    String uds = resolve(vsock.get("uds_path").asText()).toString();
    guestListening.put(10003, true);
    guestListening.put(10004, true);
    final String id = vmId;
    Map<String, Integer> ports =
        new HashMap<>(Map.of("logs", 10000, "exit", 10001, "metrics", 10002));
    Map<String, Integer> channel = Map.of("logs", 1, "exit", 2, "metrics", 4);
    for (var p : ports.entrySet()) {
      Thread.ofVirtual()
          .start(() -> {
            // like init: connect to the host's <uds>_<port>, HELLO first; retry with backoff
            Path target = Path.of(uds + "_" + p.getValue());
            long backoff = 50;
            for (int tries = 0; tries < 40; tries++) {
              try (SocketChannel s = SocketChannel.open(UnixDomainSocketAddress.of(target))) {
                writeFully(s, hello(channel.get(p.getKey()), id));
                if (p.getKey().equals("exit")) {
                  // kept open for EXIT / EXIT_ACK; nobody else reads it
                  exitChannel = s;
                  Thread.sleep(Long.MAX_VALUE);
                }
                s.read(ByteBuffer.allocate(1));
                return;
              } catch (InterruptedException e) {
                return;
              } catch (IOException e) {
                try {
                  Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                  return;
                }
                backoff = Math.min(1000, backoff * 2);
              }
            }
          });
    }
  }

  private void vsockAccept(ServerSocketChannel server, Path uds) {
    while (true) {
      SocketChannel c;
      try {
        c = server.accept();
      } catch (IOException e) {
        return;
      }
      Thread.ofVirtual()
          .start(() -> {
            try (c;
                InputStream in = Channels.newInputStream(c)) {
              String line = readLine(in);
              if (line == null || !line.startsWith("CONNECT ")) {
                return;
              }
              int port = Integer.parseInt(line.substring(8).trim());
              if (!guestListening.getOrDefault(port, false)) {
                return; // nobody listens in the guest: Firecracker closes the connection
              }
              writeFully(c, ("OK 1073741824\n").getBytes(StandardCharsets.US_ASCII));
              if (port == 10004) {
                writeFully(c, hello(5, vmId));
                sessionLoop(c, in);
                return;
              }
              writeFully(c, hello(3, vmId));
              controlLoop(c, in);
            } catch (IOException e) {
              // peer gone
            }
          });
    }
  }

  /** Answers CONTROL frames like init: a reply per frame; stop acts as the stop signal would. */
  private void controlLoop(SocketChannel c, InputStream in) throws IOException {
    while (true) {
      byte[] header = in.readNBytes(16);
      if (header.length < 16) {
        return;
      }
      int len = ByteBuffer.wrap(header, 4, 4).getInt();
      byte[] payload = in.readNBytes(len);
      if (header[3] != 0x06) {
        continue;
      }
      awaitRunning(); // a paused init answers nothing
      JsonNode req = JSON.readTree(payload);
      writeFully(c, frame(0x07, "{\"ok\":true}".getBytes(StandardCharsets.UTF_8)));
      if ("stop".equals(req.path("op").asText())) {
        synchronized (this) {
          Reply r = guestStop("CONTROL stop");
          if ("exit-now".equals(r.after)) {
            System.exit(0);
          }
        }
      }
    }
  }

  /** init's session channel, for {@code echo} only (PROTOCOL.md §10). */
  private void sessionLoop(SocketChannel c, InputStream in) throws IOException {
    while (true) {
      byte[] header = in.readNBytes(16);
      if (header.length < 16) {
        return;
      }
      int len = ByteBuffer.wrap(header, 4, 4).getInt();
      byte[] payload = in.readNBytes(len);
      if (header[3] != 0x09) {
        continue; // WINDOW, DATA …: nothing to do for echo
      }
      int session = ByteBuffer.wrap(payload).getInt();
      JsonNode open = JSON.readTree(new String(payload, 4, len - 4, StandardCharsets.UTF_8));
      List<String> argv = new ArrayList<>();
      open.path("argv").forEach(a -> argv.add(a.asText()));
      if (!"exec".equals(open.path("kind").asText()) || !argv.getFirst().equals("echo")) {
        String error = "exec: \"" + argv.getFirst() + "\": executable file not found in $PATH";
        writeFully(c, frame(0x10, closed(session, 127, error)));
        continue;
      }
      writeFully(
          c, frame(0x0A, ByteBuffer.allocate(8).putInt(session).putInt(100 + session).array()));
      byte[] out =
          (String.join(" ", argv.subList(1, argv.size())) + "\n").getBytes(StandardCharsets.UTF_8);
      writeFully(
          c,
          frame(
              0x0B,
              ByteBuffer.allocate(5 + out.length).putInt(session).put((byte) 1).put(out).array()));
      for (int stream = 1; stream <= 2; stream++) {
        writeFully(
            c, frame(0x0C, ByteBuffer.allocate(5).putInt(session).put((byte) stream).array()));
      }
      writeFully(c, frame(0x10, closed(session, 0, null)));
    }
  }

  private static byte[] closed(int session, int code, String error) {
    com.fasterxml.jackson.databind.node.ObjectNode r = JSON.createObjectNode();
    r.put("code", code)
        .putNull("signal")
        .put("oom", false)
        .put("started_ns", 0)
        .put("finished_ns", 0);
    r.put("error", error);
    byte[] json = r.toString().getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + json.length).putInt(session).put(json).array();
  }

  static void writeFully(SocketChannel c, byte[] b) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(b);
    while (buf.hasRemaining()) {
      c.write(buf);
    }
  }

  static byte[] hello(int channel, String vmId) {
    byte[] id = vmId.getBytes(StandardCharsets.UTF_8);
    ByteBuffer p = ByteBuffer.allocate(9 + id.length).put((byte) channel).putLong(42L).put(id);
    return frame(0x01, p.array());
  }

  /** docs/PROTOCOL.md §2 framing, written out by hand (the codec lives in another package). */
  static byte[] frame(int type, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(16 + payload.length);
    b.put((byte) 0x49).put((byte) 0x46).put((byte) 1).put((byte) type).putInt(payload.length);
    CRC32 crc = new CRC32();
    crc.update(payload);
    b.putInt((int) crc.getValue());
    CRC32 hcrc = new CRC32();
    hcrc.update(b.array(), 0, 12);
    b.putInt((int) hcrc.getValue());
    b.put(payload);
    return b.array();
  }
}
