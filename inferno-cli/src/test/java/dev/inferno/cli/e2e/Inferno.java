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
 * End-to-end scaffolding: a real daemon started as a subprocess through bin/inferno with a temp
 * state dir and socket, and the real CLI binary run against it. With {@code backend=process} the
 * VMs are host processes; once image + kiln are merged, {@link #start} takes the kiln backend
 * (kernel, init) and the same tests run real guests.
 */
public final class Inferno implements AutoCloseable {
  public static final Path ROOT = Path.of(System.getProperty("inferno.root"));
  public static final Path BIN = ROOT.resolve("bin/inferno");

  public final Path dir;
  public final Path socket;
  private final List<String> serverArgs;
  private Process daemon;

  /** The output and exit code of one CLI run. */
  public record Result(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private Inferno(Path dir, List<String> serverArgs) {
    this.dir = dir;
    this.socket = dir.resolve("inferno.sock");
    this.serverArgs = serverArgs;
  }

  /** A daemon on the process backend whose fake registry serves busybox and alpine:3.20. */
  public static Inferno start(Path dir) throws Exception {
    Inferno i =
        new Inferno(
            dir,
            List.of(
                "server",
                "--backend",
                "process",
                "--state-dir",
                dir.resolve("state").toString(),
                "--socket",
                dir.resolve("inferno.sock").toString(),
                "--testing-images",
                "busybox,alpine:3.20"));
    i.startDaemon();
    return i;
  }

  /** A daemon running real VMs through kiln (QEMU with TCG: no trustworthy KVM assumed). */
  public static Inferno startKiln(Path dir, Path kernel, Path init) throws Exception {
    Inferno i =
        new Inferno(
            dir,
            List.of(
                "server",
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
    i.startDaemon();
    return i;
  }

  public void startDaemon() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd(serverArgs));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("daemon.log").toFile()));
    // a config file that does not exist here would be read from /etc: point at an empty one
    Path conf = dir.resolve("empty.conf");
    if (!Files.exists(conf)) {
      Files.writeString(conf, "");
    }
    List<String> c = new ArrayList<>(pb.command());
    c.add("--config");
    c.add(conf.toString());
    pb.command(c);
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

  public static Result finish(Process p, int seconds) throws Exception {
    p.getOutputStream().close();
    CompletableFuture<byte[]> out =
        CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
    CompletableFuture<byte[]> err =
        CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
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
  }
}
