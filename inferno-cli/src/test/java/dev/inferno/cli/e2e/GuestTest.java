package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.model.json.Json;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real guests end to end: the real bin/inferno against the real daemon ({@code inferno server}:
 * image module, kiln, QEMU — TCG here, where KVM does not work), the real kernel
 * (build/kernel/vmlinux from kernel/build.sh), the real init (build/init/init from init/build.sh),
 * a real docker-registry, and a busybox-static image built with scripts/make-busybox-image.sh. The
 * kernel and init must be built (scripts/test.sh builds both first): without them this fails. Boots
 * are kept few (~20, each ~1.5 s of TCG).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuestTest {
  static final String IMAGE = "busybox:latest";

  @TempDir static Path dir;
  Inferno inferno;
  LocalRegistry registry;
  String registryImage;
  ServerSocketChannel sink;
  final Queue<String> sinkLines = new ConcurrentLinkedQueue<>();

  @BeforeAll
  void start() throws Exception {
    registry = LocalRegistry.start(dir.resolve("registry"));
    int port = registry.port;
    startSink(dir.resolve("sink.sock"));
    inferno =
        Inferno.startGuests(
            dir,
            "insecure-registries = 127.0.0.1:"
                + port
                + "\nlog-sink = "
                + dir.resolve("sink.sock")
                + "\n");

    Path layout = dir.resolve("layout");
    Inferno.sh(Inferno.ROOT.resolve("scripts/make-busybox-image.sh").toString(), layout.toString());
    registryImage = "127.0.0.1:" + port + "/tools/busybox:1";
    Inferno.sh(
        "skopeo",
        "copy",
        "-q",
        "--dest-tls-verify=false",
        "oci:" + layout + ":latest",
        "docker://" + registryImage);
    // the same image as a `docker save` archive: its manifest.json's RepoTags name it
    Path saved = dir.resolve("saved.tar");
    Inferno.sh(
        "skopeo",
        "copy",
        "-q",
        "oci:" + layout + ":latest",
        "docker-archive:" + saved + ":local/saved:2");
    var loadSaved = inferno.run("load", "-i", saved.toString());
    assertThat(loadSaved.code()).as(loadSaved.toString()).isZero();
    assertThat(loadSaved.out()).isEqualTo("Loaded image: docker.io/local/saved:2\n");
    // name the layout's image as `docker save`/buildx would, so `load` gives it a name
    Path index = layout.resolve("index.json");
    String named =
        Inferno.sh(
            "jq",
            "-c",
            ".manifests[0].annotations[\"org.opencontainers.image.ref.name\"] = \"" + IMAGE + "\"",
            index.toString());
    Files.writeString(index, named);
    Path tar = dir.resolve("busybox.tar");
    Inferno.sh("tar", "-C", layout.toString(), "-cf", tar.toString(), ".");
    var load = inferno.run("load", "-i", tar.toString());
    assertThat(load.code()).as(load.toString()).isZero();
    assertThat(load.out()).isEqualTo("Loaded image: docker.io/library/busybox:latest\n");
  }

  @AfterAll
  void stop() throws Exception {
    if (registry != null) {
      registry.close();
    }
    if (sink != null) {
      sink.close();
    }
    if (inferno != null) {
      String left = inferno.run("ps", "-a", "-q").out();
      for (String id : left.lines().toList()) {
        inferno.run("rm", "-f", id);
      }
      inferno.close();
      // every VM of the class is removed: no VMM runs on and no VM state dir is left
      List<ProcessHandle> vmms = vmmProcesses(dir.resolve("state/vms").toString());
      vmms.forEach(ProcessHandle::destroyForcibly); // not to leak them into other tests
      assertThat(vmms).as("VMMs left").isEmpty();
      try (Stream<Path> vms = Files.list(dir.resolve("state/vms"))) {
        assertThat(vms.toList()).as("VM state dirs left").isEmpty();
      }
    }
  }

  @Test
  void attachedRunsPassOutputExitCodesAndInitErrorsAndRmLeavesNoRecord() throws Exception {
    var r =
        inferno.run(
            "run", "--rm", "--name", "att", IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3");
    assertThat(r.code()).as(r.toString()).isEqualTo(3);
    assertThat(r.out()).isEqualTo("out\n");
    assertThat(r.err()).isEqualTo("err\n");
    var gone = inferno.run("inspect", "att");
    assertThat(gone.code()).isEqualTo(1);
    assertThat(gone.err()).startsWith("inferno: no such VM: att");
    assertThat(inferno.run("ps", "-a").out()).doesNotContain("att");

    // init's own errors reach stderr, as Docker prints exec failures
    var missing = inferno.run("run", "--rm", IMAGE, "/no/such/binary");
    assertThat(missing.code()).as(missing.toString()).isEqualTo(127);
    assertThat(missing.out()).isEmpty();
    assertThat(missing.err()).startsWith("inferno-init: ").contains("/no/such/binary");
    var notExec = inferno.run("run", "--rm", IMAGE, "/etc/passwd");
    assertThat(notExec.code()).as(notExec.toString()).isEqualTo(126);
    assertThat(notExec.err()).startsWith("inferno-init: ").contains("/etc/passwd");
  }

  @Test
  void pullsFromARegistryAndRejectsBadReferencesAndUnreachableRegistries() throws Exception {
    var pull = inferno.run("pull", registryImage);
    assertThat(pull.code()).as(pull.toString()).isZero();
    var r = inferno.run("run", "--rm", registryImage, "echo", "pulled");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("pulled\n");
    assertThat(inferno.run("images").out()).contains("127.0.0.1:").contains("tools/busybox");

    var bad = inferno.run("run", "--rm", "Bad:Ref:X");
    assertThat(bad.code()).isEqualTo(125);
    assertThat(bad.err()).contains("invalid reference format").hasLineCount(1);
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort(); // nothing listens there once closed
    }
    var unreachable = inferno.run("pull", "127.0.0.1:" + closed + "/x/y:1");
    assertThat(unreachable.code()).as(unreachable.toString()).isNotZero();
    assertThat(unreachable.err()).startsWith("inferno: ").hasLineCount(1);
    var flags = inferno.run("run", "--bogus", IMAGE);
    assertThat(flags.code()).isEqualTo(125);
    assertThat(flags.err()).startsWith("inferno: Unknown option: '--bogus'");
  }

  @Test
  void detachedRunThenLogsFollowTailSinceTimestampsAndTheLogSink() throws Exception {
    var d =
        inferno.run(
            "run",
            "-d",
            "--name",
            "lines",
            IMAGE,
            "sh",
            "-c",
            "for i in 1 2 3 4 5; do echo l$i; sleep 0.3; done");
    assertThat(d.code()).as(d.toString()).isZero();
    assertThat(d.out().strip()).matches("[0-9a-f]{16}");
    var follow = inferno.run("logs", "-f", "lines");
    assertThat(follow.code()).as(follow.toString()).isZero();
    assertThat(follow.out()).isEqualTo("l1\nl2\nl3\nl4\nl5\n");
    assertThat(inferno.run("logs", "--tail", "2", "lines").out()).isEqualTo("l4\nl5\n");
    List<String> stamped = inferno.run("logs", "-t", "lines").out().lines().toList();
    assertThat(stamped).hasSize(5);
    assertThat(stamped).allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\S+Z l[1-5]"));
    String third = stamped.get(2).split(" ")[0];
    assertThat(inferno.run("logs", "--since", third, "lines").out()).isEqualTo("l3\nl4\nl5\n");
    assertThat(inferno.run("logs", "--since", "1h", "lines").out())
        .isEqualTo("l1\nl2\nl3\nl4\nl5\n");
    assertThat(inferno.run("logs", "--since", "2100-01-01T00:00:00Z", "lines").out()).isEmpty();

    // the log sink got the same records as NDJSON
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline
        && sinkLines.stream()
            .noneMatch(l -> l.contains("\"vm_name\":\"lines\"") && l.contains("l5"))) {
      Thread.sleep(100);
    }
    assertThat(sinkLines.stream().filter(l -> l.contains("\"vm_name\":\"lines\"")).toList())
        .hasSize(5)
        .allMatch(l -> l.contains("\"stream\":\"stdout\""));
  }

  @Test
  void stopKillAndRmForce() throws Exception {
    inferno.run("run", "-d", "--name", "sleeper", IMAGE, "sleep", "1000");
    inferno.run(
        "run",
        "-d",
        "--name",
        "stubborn",
        IMAGE,
        "sh",
        "-c",
        "trap '' TERM; echo ready; while true; do sleep 1; done");
    inferno.run("run", "-d", "--name", "victim", IMAGE, "sleep", "1000");
    inferno.run("run", "-d", "--name", "doomed", IMAGE, "sleep", "1000");
    inferno.run("run", "-d", "--name", "interrupted", "local/saved:2", "sleep", "1000");
    inferno.awaitLog("stubborn", "ready");
    assertThat(inferno.run("ps").out())
        .contains("sleeper")
        .contains("stubborn")
        .contains("victim")
        .contains("doomed");

    long t0 = System.nanoTime();
    var stop = inferno.run("stop", "-t", "10", "sleeper");
    assertThat(stop.code()).as(stop.toString()).isZero();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));

    // SIGTERM is ignored: stop escalates after -t (which overrides the VM's 10 s)
    t0 = System.nanoTime();
    stop = inferno.run("stop", "-t", "2", "stubborn");
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(stop.code()).as(stop.toString()).isZero();
    assertThat(took)
        .isGreaterThanOrEqualTo(Duration.ofSeconds(2))
        .isLessThan(Duration.ofSeconds(9));

    // -s: another signal than the VM's stop signal
    stop = inferno.run("stop", "-s", "SIGINT", "-t", "10", "interrupted");
    assertThat(stop.code()).as(stop.toString()).isZero();

    var kill = inferno.run("kill", "victim");
    assertThat(kill.code()).as(kill.toString()).isZero();
    awaitState("victim", "exited");

    String doomedId = field("doomed", "id");
    var rm = inferno.run("rm", "-f", "doomed");
    assertThat(rm.code()).as(rm.toString()).isZero();
    assertThat(inferno.run("inspect", "doomed").code()).isEqualTo(1);
    if (!doomedId.isEmpty()) {
      assertThat(vmmProcesses(doomedId)).isEmpty();
    }

    String all = inferno.run("ps", "-a").out();
    assertThat(line(all, "sleeper")).contains("Exited (143)");
    assertThat(line(all, "stubborn")).contains("Exited (137)");
    assertThat(line(all, "victim")).contains("Exited (137)");
    assertThat(line(all, "interrupted")).contains("Exited (130)");
    assertThat(inferno.run("ps").out())
        .doesNotContain("sleeper")
        .doesNotContain("stubborn")
        .doesNotContain("victim");
  }

  @Test
  void aVmSurvivesADaemonCrashWithEveryLogLineOnce() throws Exception {
    inferno.run(
        "run",
        "-d",
        "--name",
        "counter",
        IMAGE,
        "sh",
        "-c",
        // it writes while the daemon is down, then holds at n20 until the test lets it go: how
        // long the restart takes decides nothing
        "i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo n$i; sleep 0.2;"
            + " if [ $i = 20 ]; then while [ ! -e /go ]; do sleep 0.1; done; fi; done");
    inferno.awaitLog("counter", "n3");
    inferno.killDaemon(); // kill -9: the VMMs run on, detached
    inferno.startDaemon();
    assertThat(inferno.daemonLog()).contains("re-adopted running VM counter");
    assertThat(line(inferno.run("ps").out(), "counter")).contains("Up ");
    var go = inferno.run("exec", "counter", "touch", "/go");
    assertThat(go.code()).as(go.toString()).isZero();
    var logs = inferno.run("logs", "-f", "counter");
    List<String> lines = logs.out().lines().toList();
    assertThat(lines).hasSize(30).doesNotHaveDuplicates().startsWith("n1").endsWith("n30");
  }

  @Test
  void malformedAndOversizedRequestsOnTheSocketLeaveTheDaemonServing() throws Exception {
    String bad = raw("POST", "/v1/vms", "{\"image\": ");
    assertThat(bad).startsWith("HTTP/1.1 400").contains("\"message\"");
    String unknown = raw("GET", "/v1/vms/ffffffffffff", null);
    assertThat(unknown).startsWith("HTTP/1.1 404").contains("\"message\"");
    String big = rawDeclared("POST", "/v1/vms", 64L << 20);
    assertThat(big).startsWith("HTTP/1.1 413").contains("\"message\"");
    var r = inferno.run("logs", "no-such-vm");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("inferno: no such VM: no-such-vm");
    assertThat(inferno.run("version").code()).isZero();
  }

  /**
   * Ten VMs at once (five attached runs, five detached then stopped), on 2 cores under TCG; then
   * consistent state and nothing left behind: no VMM process, no state dir.
   */
  @Test
  void tenRunsAndStopsInParallel() throws Exception {
    int n = 10;
    List<Future<Inferno.Result>> results = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < n; i++) {
        int k = i;
        results.add(
            pool.submit(() -> {
              if (k % 2 == 0) {
                return inferno.run("run", "--name", "par" + k, IMAGE, "echo", "hi" + k);
              }
              var d =
                  inferno.run(
                      "run",
                      "-d",
                      "--name",
                      "par" + k,
                      IMAGE,
                      "sh",
                      "-c",
                      "echo up; exec sleep 1000");
              if (d.code() != 0) {
                return d;
              }
              // stopped once its process runs: a stop during ten boots under TCG could outlast
              // its grace and end in a kill (137) instead of the TERM the test expects
              inferno.awaitLog("par" + k, "up");
              return inferno.run("stop", "-t", "20", "par" + k);
            }));
      }
      for (int i = 0; i < n; i++) {
        var r = results.get(i).get();
        assertThat(r.code()).as("par%d: %s", i, r).isZero();
        assertThat(r.out()).isEqualTo(i % 2 == 0 ? "hi" + i + "\n" : "par" + i + "\n");
      }
    }
    List<String> ids = new ArrayList<>();
    String all = inferno.run("ps", "-a").out();
    for (int i = 0; i < n; i++) {
      assertThat(line(all, "par" + i)).contains(i % 2 == 0 ? "Exited (0)" : "Exited (143)");
      ids.add(field("par" + i, "id"));
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      names.add("par" + i);
    }
    List<String> rm = new ArrayList<>(List.of("rm"));
    rm.addAll(names);
    var removed = inferno.run(rm.toArray(String[]::new));
    assertThat(removed.code()).as(removed.toString()).isZero();
    assertThat(inferno.run("ps", "-a").out()).doesNotContain("par");
    for (String id : ids) {
      assertThat(id).matches("[0-9a-f]{16}");
      assertThat(vmmProcesses(id)).as("VMM of %s", id).isEmpty();
      assertThat(dir.resolve("state/vms").resolve(id)).doesNotExist();
    }
  }

  // ------------------------------------------------------------------ helpers

  private static String line(String table, String name) {
    return table.lines().filter(l -> l.endsWith(" " + name)).findFirst().orElse("");
  }

  /** A top-level field of {@code inspect VM}'s JSON, "" when the VM is unknown. */
  private String field(String vm, String name) throws Exception {
    var r = inferno.run("inspect", vm);
    if (r.code() != 0) {
      return "";
    }
    Map<?, ?> m = (Map<?, ?>) ((List<?>) Json.parse(r.out())).getFirst();
    return String.valueOf(m.get(name));
  }

  private void awaitState(String vm, String state) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!field(vm, "state").equals(state)) {
      assertThat(System.nanoTime()).as("%s never became %s", vm, state).isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  /** Live host processes whose command line contains {@code id} (a VM's VMM names its dir). */
  private static List<ProcessHandle> vmmProcesses(String id) {
    try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
      return all.filter(ProcessHandle::isAlive)
          .filter(p -> p.info().commandLine().map(c -> c.contains(id)).orElse(false))
          .toList();
    }
  }

  private String raw(String method, String path, String body) throws IOException {
    byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    String head =
        method
            + " "
            + path
            + " HTTP/1.1\r\nHost: inferno\r\nContent-Type: application/json\r\n"
            + "Connection: close\r\nContent-Length: "
            + b.length
            + "\r\n\r\n";
    return exchange(head, b);
  }

  /** Declares a body of {@code size} bytes and sends only the start of it. */
  private String rawDeclared(String method, String path, long size) throws IOException {
    String head =
        method
            + " "
            + path
            + " HTTP/1.1\r\nHost: inferno\r\nContent-Type: application/json\r\n"
            + "Connection: close\r\nContent-Length: "
            + size
            + "\r\n\r\n";
    return exchange(head, "{\"image\":\"".getBytes(StandardCharsets.UTF_8));
  }

  private String exchange(String head, byte[] body) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(inferno.socket));
      ch.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
      ch.write(ByteBuffer.wrap(body));
      return new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** A collector on a unix socket, as vector.dev's socket source would be: keeps every line. */
  private void startSink(Path socket) throws IOException {
    sink = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    sink.bind(UnixDomainSocketAddress.of(socket));
    Thread.ofVirtual()
        .start(() -> {
          while (sink.isOpen()) {
            try {
              SocketChannel c = sink.accept();
              Thread.ofVirtual()
                  .start(() -> {
                    try (var in =
                        new java.io.BufferedReader(
                            new java.io.InputStreamReader(
                                Channels.newInputStream(c), StandardCharsets.UTF_8))) {
                      for (String l = in.readLine(); l != null; l = in.readLine()) {
                        sinkLines.add(l);
                      }
                    } catch (IOException e) {
                      // the daemon went away (the crash test)
                    }
                  });
            } catch (IOException e) {
              return;
            }
          }
        });
  }
}
