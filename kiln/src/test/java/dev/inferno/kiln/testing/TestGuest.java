package dev.inferno.kiln.testing;

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
  public static String shellRunConfig(String vmId, String script) {
    String cmd;
    try {
      cmd =
          new com.fasterxml.jackson.databind.ObjectMapper()
              .writeValueAsString(new String[] {"/bin/sh", "-c", script});
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return """
    {"version":1,"vm_id":"%s","hostname":"%s",
     "image_config":{"Cmd":%s},
     "overrides":{"entrypoint":null,"cmd":null,"env":[],"workdir":null,"user":null},
     "root":{"image_device":"/dev/vda","writable_device":null},
     "transport":"auto","stop":{"signal":null,"timeout_secs":2},
     "log":{"mode":"block","buffer_bytes":1048576,"drain_timeout_ms":5000},
     "metrics_interval_secs":0}
    """
        .formatted(vmId, vmId, cmd);
  }

  /** A run.json for the stand-in init: exit with code, or hang ignoring every signal. */
  public static String runConfig(String vmId, String mode, int exitCode) {
    return "{\"version\":1,\"vm_id\":\""
        + vmId
        + "\",\"test_mode\":\""
        + mode
        + "\",\"test_exit\":"
        + exitCode
        + "}";
  }
}
