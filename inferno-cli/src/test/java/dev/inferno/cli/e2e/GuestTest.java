package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real guests: the real CLI against a real daemon running kiln (QEMU; TCG where KVM does not work),
 * the real kernel (build/kernel/vmlinux from kernel/build.sh) and init (init/target/release/init),
 * and a busybox-static image loaded from an OCI layout. Skipped, with the reason, when the kernel
 * or init are not built. Few boots: each costs seconds under TCG.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuestTest {
  static final Path KERNEL = Inferno.ROOT.resolve("build/kernel/vmlinux");
  static final Path INIT = Inferno.ROOT.resolve("init/target/release/init");

  @TempDir static Path dir;
  Inferno inferno;
  String image;

  @BeforeAll
  void start() throws Exception {
    assumeTrue(Files.isRegularFile(KERNEL), "no guest kernel: run kernel/build.sh");
    assumeTrue(Files.isRegularFile(INIT), "no guest init: run cargo build --release in init/");
    inferno = Inferno.startKiln(dir, KERNEL, INIT);
    Path layout = dir.resolve("layout");
    Process mk =
        new ProcessBuilder(
                Inferno.ROOT.resolve("scripts/make-busybox-image.sh").toString(), layout.toString())
            .redirectErrorStream(true)
            .start();
    mk.getInputStream().readAllBytes();
    assertThat(mk.waitFor()).isZero();
    Path tar = dir.resolve("busybox.tar");
    assertThat(
            new ProcessBuilder("tar", "-C", layout.toString(), "-cf", tar.toString(), ".")
                .start()
                .waitFor())
        .isZero();
    var load = inferno.run("load", "-i", tar.toString());
    assertThat(load.code()).as(load.toString()).isZero();
    image = inferno.run("images", "-q").out().strip();
    assertThat(image).matches("[0-9a-f]{12}");
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.run("rm", "-f", "counter", "sleeper");
      inferno.close();
    }
  }

  @Test
  void attachedRunInAVm() throws Exception {
    var r = inferno.run("run", "--rm", image, "sh", "-c", "echo out; echo err >&2; exit 3");
    assertThat(r.code()).as(r.toString()).isEqualTo(3);
    assertThat(r.out()).isEqualTo("out\n");
    assertThat(r.err()).isEqualTo("err\n");
    var missing = inferno.run("run", "--rm", image, "/no/such/binary");
    assertThat(missing.code()).as(missing.toString()).isEqualTo(127);
  }

  @Test
  void stopASleepingVmAndSurviveADaemonCrash() throws Exception {
    inferno.run("run", "-d", "--name", "sleeper", image, "sleep", "1000");
    inferno.run(
        "run",
        "-d",
        "--name",
        "counter",
        image,
        "sh",
        "-c",
        "i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo n$i; sleep 0.2; done");
    Thread.sleep(3000);
    inferno.killDaemon(); // kill -9: the VMMs run on, detached
    inferno.startDaemon();
    assertThat(inferno.daemonLog()).contains("re-adopted running VM counter");
    var logs = inferno.run("logs", "-f", "counter");
    List<String> lines = logs.out().lines().toList();
    assertThat(lines).hasSize(30).doesNotHaveDuplicates().startsWith("n1").endsWith("n30");
    var stop = inferno.run("stop", "-t", "10", "sleeper");
    assertThat(stop.code()).as(stop.toString()).isZero();
    assertThat(inferno.run("ps", "-a").out()).contains("Exited (143)");
  }
}
