package dev.inferno.cli.e2e;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end scaffolding: a daemon subprocess with a temp state dir and socket, and the real CLI
 * binary (bin/inferno) run against it. {@link #startKiln} runs the real daemon ({@code inferno
 * server}: image module, kiln, QEMU); {@link #start} runs the daemon's API, store and services with
 * test doubles for kiln and the registry ({@code TestServerMain} from the daemon's test-jar, on
 * this test classpath), where host processes stand in for VMs.
 */
public final class Inferno implements AutoCloseable {
  public static final Path ROOT = Path.of(System.getProperty("inferno.root"));
  public static final Path BIN = ROOT.resolve("bin/inferno");

  public final Path dir;
  public final Path socket;

  /**
   * The nftables table, TAP prefix and address pool of the real daemons {@link #startKiln} runs.
   */
  public static final String NFT_TABLE = "inferno_e2e";

  public static final String TAP_PREFIX = "ie";
  public static final String POOL = "10.214.0.0/16";

  private final List<String> serverCmd;
  private Process daemon;

  /** The nftables table of the real daemon this runs (its config's last network-table), or null. */
  private String nftTable;

  /** The output and exit code of one CLI run. */
  public record Result(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private Inferno(Path dir, List<String> serverCmd) {
    this.dir = dir;
    this.socket = dir.resolve("inferno.sock");
    this.serverCmd = serverCmd;
  }

  /**
   * A daemon with test doubles (host processes for VMs) whose fake registry serves busybox and
   * alpine:3.20.
   */
  public static Inferno start(Path dir) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>(List.of(java));
    // the test network's names, when this run was given its own (TestNetworks)
    for (String p : List.of("inferno.test.tap-prefix", "inferno.test.pool")) {
      if (System.getProperty(p) != null) {
        cmd.add("-D" + p + "=" + System.getProperty(p));
      }
    }
    cmd.addAll(
        List.of(
            "-cp",
            cp,
            "dev.inferno.daemon.testing.TestServerMain",
            dir.resolve("state").toString(),
            dir.resolve("inferno.sock").toString(),
            "busybox,alpine:3.20"));
    Inferno i = new Inferno(dir, cmd);
    i.startDaemon();
    return i;
  }

  /** The guest kernel and init the real-VM tests boot (kernel/build.sh, init/build.sh). */
  public static final Path KERNEL = ROOT.resolve("build/kernel/vmlinux");

  public static final Path INIT = ROOT.resolve("build/init/init");

  /**
   * A daemon booting real guests (the project's kernel and init under QEMU TCG) with these lines in
   * its config: each class names its own network (table, TAP prefix, pool) so that it touches no
   * other's. Fails at once, saying what to build, when the kernel or init is missing.
   */
  public static Inferno startGuests(Path dir, String config) throws Exception {
    if (!Files.isRegularFile(KERNEL)) {
      throw new AssertionError(
          "no guest kernel at " + KERNEL + ": run kernel/build.sh (scripts/test.sh does)");
    }
    if (!Files.isRegularFile(INIT)) {
      throw new AssertionError(
          "no guest init at " + INIT + ": run init/build.sh (scripts/test.sh does)");
    }
    return startKiln(dir, KERNEL, INIT, config);
  }

  /** A daemon running real VMs through kiln (QEMU with TCG: no trustworthy KVM assumed). */
  public static Inferno startKiln(Path dir, Path kernel, Path init) throws Exception {
    return startKiln(dir, kernel, init, "");
  }

  /** As above, with these lines in its config file. */
  public static Inferno startKiln(Path dir, Path kernel, Path init, String config)
      throws Exception {
    // without --config the daemon would read /etc/inferno: always give it one; its network is
    // named and numbered apart from a real daemon's on this host (whose rules and TAPs it must not
    // touch)
    Path conf = dir.resolve("daemon.conf");
    Files.writeString(
        conf,
        "network-table = "
            + NFT_TABLE
            + "\nnetwork-tap-prefix = "
            + TAP_PREFIX
            + "\nnetwork-pool = "
            + POOL
            + "\ndocker-socket = "
            + dir.resolve("docker.sock")
            + "\n"
            + config);
    String table = NFT_TABLE;
    for (String line : config.lines().toList()) {
      // later keys win in the daemon's config: so here
      if (line.strip().startsWith("network-table")) {
        table = line.substring(line.indexOf('=') + 1).strip();
      }
    }
    Inferno i =
        new Inferno(
            dir,
            List.of(
                BIN.toString(),
                "server",
                "--config",
                conf.toString(),
                "--state-dir",
                dir.resolve("state").toString(),
                "--socket",
                dir.resolve("inferno.sock").toString(),
                "--kernel",
                kernel.toString(),
                "--init",
                init.toString(),
                "--vmm",
                "qemu",
                "--qemu-accel",
                "tcg"));
    i.nftTable = table;
    i.startDaemon();
    return i;
  }

  /** Runs a host command; returns its stdout (stderr passes through); a non-zero exit fails. */
  public static String sh(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue());
    }
    return out;
  }

  /** The busybox-static test image (scripts/make-busybox-image.sh) as an OCI layout in dir/NAME. */
  public Path busyboxLayout(String name) throws Exception {
    Path layout = dir.resolve(name);
    sh(ROOT.resolve("scripts/make-busybox-image.sh").toString(), layout.toString());
    return layout;
  }

  /** Loads an OCI layout (its only image named {@code name}) into the daemon: inferno load. */
  public void load(Path layout, String name) throws Exception {
    Path index = layout.resolve("index.json");
    Files.writeString(
        index,
        sh(
            "jq",
            "-c",
            ".manifests |= map(.annotations[\"org.opencontainers.image.ref.name\"] = \""
                + name
                + "\")",
            index.toString()));
    Path tar = dir.resolve(name.replaceAll("[/:]", "_") + ".tar");
    sh("tar", "-C", layout.toString(), "-cf", tar.toString(), ".");
    Result r = run("load", "-i", tar.toString());
    if (r.code() != 0) {
      throw new AssertionError("inferno load of " + name + ": " + r);
    }
  }

  /** The busybox-static test image, loaded as {@code name}. */
  public void loadBusybox(String name) throws Exception {
    load(busyboxLayout("layout-" + name.replaceAll("[/:]", "_")), name);
  }

  /** Removes every VM ({@code rm -f -v}: their anonymous volumes too), then {@link #close}. */
  public void removeAllAndClose() throws Exception {
    if (daemon != null && daemon.isAlive()) {
      for (String id : run("ps", "-a", "-q").out().lines().toList()) {
        run("rm", "-f", "-v", id);
      }
    }
    close();
  }

  public void startDaemon() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(serverCmd);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("daemon.log").toFile()));
    daemon = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (!daemon.isAlive()) {
        throw new IllegalStateException(
            "the daemon exited: " + Files.readString(dir.resolve("daemon.log")));
      }
      if (Files.exists(socket)) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
          ch.connect(UnixDomainSocketAddress.of(socket));
          return;
        } catch (IOException e) {
          // not yet listening
        }
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("the daemon did not listen within 30 s");
  }

  /** Kills the daemon hard (kill -9), as a crash would. */
  public void killDaemon() throws InterruptedException {
    daemon.destroyForcibly();
    daemon.waitFor();
  }

  public long daemonPid() {
    return daemon.pid();
  }

  private static List<String> cmd(List<String> args) {
    List<String> c = new ArrayList<>();
    c.add(BIN.toString());
    c.addAll(args);
    return c;
  }

  /** Runs {@code inferno --socket S args…} and waits (60 s at most). */
  public Result run(String... args) throws Exception {
    Process p = spawn(args);
    return finish(p, 60);
  }

  /** A port free now on every address (for a test to publish on; it may be handed out again). */
  public static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A free port other than {@code taken}: a just-closed port may come back at once. */
  public static int freePort(int taken) throws IOException {
    int p = freePort();
    while (p == taken) {
      p = freePort();
    }
    return p;
  }

  /**
   * Waits (120 s at most, then fails) until {@code inferno logs VM} contains {@code text}: the
   * guest's process has run that far, which "running" alone does not say.
   */
  public void awaitLog(String vm, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (true) {
      Result r = run("logs", vm);
      if (r.out().contains(text)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(vm + " never printed " + text + ": " + r);
      }
      Thread.sleep(200);
    }
  }

  /** Starts a CLI process without waiting. */
  public Process spawn(String... args) throws IOException {
    List<String> c = new ArrayList<>();
    c.add("--socket");
    c.add(socket.toString());
    c.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd(c));
    Map<String, String> env = pb.environment();
    env.remove("INFERNO_SOCKET");
    return pb.start();
  }

  /** Runs {@code inferno --socket S args…} with {@code input} as its stdin; waits secs at most. */
  public Result runWithInput(byte[] input, int seconds, String... args) throws Exception {
    return finish(spawn(args), input, seconds);
  }

  public static Result finish(Process p, int seconds) throws Exception {
    return finish(p, new byte[0], seconds);
  }

  /** Writes input to the process's stdin, closes it, and waits for the process and its output. */
  public static Result finish(Process p, byte[] input, int seconds) throws Exception {
    // readers first: a CLI that writes while we write its stdin must not block on a full pipe
    CompletableFuture<byte[]> out =
        CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
    CompletableFuture<byte[]> err =
        CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
    try (java.io.OutputStream in = p.getOutputStream()) {
      in.write(input);
    } catch (IOException e) {
      // the CLI stopped reading (it failed): its output says why
    }
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("inferno did not finish within " + seconds + " s");
    }
    return new Result(
        p.exitValue(),
        new String(out.get(), StandardCharsets.UTF_8),
        new String(err.get(), StandardCharsets.UTF_8));
  }

  private static byte[] readAll(java.io.InputStream in) {
    try {
      return in.readAllBytes();
    } catch (IOException e) {
      return new byte[0];
    }
  }

  // --- the Docker Engine API (issue 13): the daemon serves it on docker.sock beside its socket ---

  /** Debian's docker CLI (20.10, API 1.41): install-deps installs it, client only. */
  public static final Path DEBIAN_DOCKER = Path.of("/usr/bin/docker");

  /** A newer docker CLI (28.x, API 1.50), on this machine image but not from Debian. */
  public static final Path NEW_DOCKER = Path.of("/usr/local/bin/docker");

  /** The Docker API's socket of this daemon. */
  public Path dockerSocket() {
    return dir.resolve("docker.sock");
  }

  /** The docker CLIs to test with: Debian's always, the newer one when this machine has it. */
  public static List<Path> dockerClis() {
    List<Path> clis = new ArrayList<>(List.of(DEBIAN_DOCKER));
    if (Files.isExecutable(NEW_DOCKER)) {
      clis.add(NEW_DOCKER);
    }
    return clis;
  }

  /**
   * Starts the docker CLI {@code cli} against this daemon's Docker socket, with a config dir of its
   * own (no user's credentials or contexts).
   */
  public Process spawnDocker(Path cli, String... args) throws IOException {
    List<String> c = new ArrayList<>(List.of(cli.toString()));
    c.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(c);
    dockerEnv(pb.environment());
    return pb.start();
  }

  /**
   * Points a docker CLI's environment at this daemon's Docker socket, with a config dir of its own
   * (no user's credentials, contexts or pinned API version).
   */
  public void dockerEnv(Map<String, String> env) {
    env.put("DOCKER_HOST", "unix://" + dockerSocket());
    env.put("DOCKER_CONFIG", dir.resolve("docker-config").toString());
    env.remove("DOCKER_CONTEXT");
    env.remove("DOCKER_API_VERSION");
  }

  /** Runs the docker CLI {@code cli} against this daemon and waits (60 s at most). */
  /** A docker CLI command against this daemon; 240 s bound a hang of a real guest under TCG. */
  public Result docker(Path cli, String... args) throws Exception {
    return finish(spawnDocker(cli, args), 240);
  }

  /** As {@link #docker}, asserting that it exits 0 (the failure names the CLI and the command). */
  public Result dockerOk(Path cli, String... args) throws Exception {
    Result r = docker(cli, args);
    if (r.code() != 0) {
      throw new AssertionError(cli + " " + String.join(" ", args) + ": " + r);
    }
    return r;
  }

  public String daemonLog() throws IOException {
    return Files.readString(dir.resolve("daemon.log"));
  }

  @Override
  public void close() throws Exception {
    if (daemon != null && daemon.isAlive()) {
      // the test VMs are host processes in their own sessions: kill them with the daemon
      daemon.descendants().forEach(ProcessHandle::destroyForcibly);
      daemon.destroy();
      if (!daemon.waitFor(10, TimeUnit.SECONDS)) {
        daemon.destroyForcibly();
      }
    }
    if (nftTable != null) {
      // a daemon's nftables table is host-wide and outlives it (by design: running VMs keep their
      // rules); a test's daemon is gone for good, so is its table (its own name per test class)
      new ProcessBuilder("nft", "delete", "table", "inet", nftTable)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor();
    }
  }
}
