package dev.inferno.kiln.testing;

import dev.inferno.kiln.protocol.ProcessSpec;
import dev.inferno.kiln.protocol.RunConfig;
import dev.inferno.kiln.run.DockerRun;
import dev.inferno.kiln.run.ImageConfig;
import dev.inferno.kiln.run.Overrides;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real guest kernel and a stand-in init (src/test/c/testinit.c, built static with gcc). */
public final class TestGuest {
  private TestGuest() {}

  public static Path root() {
    return Path.of(System.getProperty("inferno.root", "..")).toAbsolutePath().normalize();
  }

  /** build/kernel/vmlinux, built by kernel/build.sh when missing (cached, seconds). */
  public static synchronized Path kernel() throws IOException, InterruptedException {
    Path vmlinux = root().resolve("build/kernel/vmlinux");
    if (!Files.exists(vmlinux)) {
      run(root(), "kernel/build.sh");
    }
    return vmlinux;
  }

  /** The stand-in init, compiled once per build into target/test-guest/init. */
  public static synchronized Path init() throws IOException, InterruptedException {
    Path src = root().resolve("kiln/src/test/c/testinit.c");
    Path out = root().resolve("kiln/target/test-guest/init");
    if (!Files.exists(out)
        || Files.getLastModifiedTime(out).compareTo(Files.getLastModifiedTime(src)) < 0) {
      Files.createDirectories(out.getParent());
      run(root(), "gcc", "-static", "-Os", "-o", out.toString(), src.toString());
    }
    return out;
  }

  public static String run(Path dir, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }

  /**
   * Starts {@code main} in a JVM of its own (a kiln host the test can kill), with this test's class
   * path and inferno.root; stderr goes to its stdout.
   */
  public static Process startJvm(Class<?> main, String... args) throws IOException {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Dinferno.root=" + root(),
                "-cp",
                System.getProperty("java.class.path"),
                main.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** The real init (init/build.sh), or null when it has not been built. */
  public static Path realInit() {
    Path init = root().resolve("build/init/init");
    return Files.isExecutable(init) ? init : null;
  }

  /** A read-only ext4 image with busybox and the given applets in /bin, for the real init. */
  public static Path busyboxImage(Path dir, String... applets)
      throws IOException, InterruptedException {
    Path rootfs = Files.createDirectories(dir.resolve("rootfs/bin"));
    Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
    for (String applet : applets) {
      Files.createSymbolicLink(rootfs.resolve(applet), Path.of("busybox"));
    }
    Files.createDirectories(dir.resolve("rootfs/etc"));
    Files.writeString(dir.resolve("rootfs/etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
    Files.writeString(dir.resolve("rootfs/etc/group"), "root:x:0:\n");
    Path image = dir.resolve("image.ext4");
    run(
        dir,
        "mke2fs",
        "-q",
        "-t",
        "ext4",
        "-d",
        dir.resolve("rootfs").toString(),
        image.toString(),
        "16M");
    return image;
  }

  /** A run.json for the real init running /bin/sh -c script. */
  public static RunConfig shellRunConfig(String vmId, String script) {
    return RunConfig.builder(
            vmId,
            DockerRun.resolve(
                new ImageConfig(null, List.of("/bin/sh", "-c", script), null, null, null, null),
                Overrides.NONE,
                vmId))
        .hostname(vmId)
        .root(new RunConfig.Root("/dev/vda", null))
        .stopTimeoutSecs(2)
        .build();
  }

  /**
   * A run.json for the stand-in guests (testinit.c, FakeFirecracker): argv is {@code [mode, code]},
   * mode "exit" (report the code), "hang" (ignore every signal) or "cad" (fake only: stop on
   * Ctrl-Alt-Del).
   */
  public static RunConfig runConfig(String vmId, String mode, int exitCode) {
    return RunConfig.builder(
            vmId,
            new ProcessSpec(
                List.of(mode, Integer.toString(exitCode)), List.of(), "/", "0:0", "SIGTERM"))
        .build();
  }
}
