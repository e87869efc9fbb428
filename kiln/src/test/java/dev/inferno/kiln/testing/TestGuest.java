package dev.inferno.kiln.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
