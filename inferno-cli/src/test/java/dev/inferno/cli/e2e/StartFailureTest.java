package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.model.json.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * VMs that cannot start, end to end with the real daemon and kiln: sizes kiln refuses are refused
 * before anything is recorded (exit 125, nothing in {@code ps -a}), and a VMM that dies before the
 * guest starts reaches the user in its own words (exit 125, on stderr and in {@code inspect}). The
 * VMM is the real QEMU, given an argument it rejects; no guest boots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StartFailureTest {
  static final String IMAGE = "local/busybox:1";

  @TempDir static Path dir;
  Inferno inferno;

  @BeforeAll
  void start() throws Exception {
    Path qemu = dir.resolve("qemu-rejecting");
    // the pause keeps it running past kiln's start, so its death is the watcher's to record
    Files.writeString(
        qemu, "#!/bin/sh\nsleep 0.5\nexec qemu-system-x86_64 \"$@\" -no-such-option\n");
    Files.setPosixFilePermissions(qemu, PosixFilePermissions.fromString("rwxr-xr-x"));
    inferno = Inferno.startGuests(dir, "qemu = " + qemu.toAbsolutePath() + "\n");
    Path layout = dir.resolve("layout");
    Path tar = dir.resolve("busybox.tar");
    sh(Inferno.ROOT.resolve("scripts/make-busybox-image.sh").toString(), layout.toString());
    sh("skopeo", "copy", "-q", "oci:" + layout + ":latest", "docker-archive:" + tar + ":" + IMAGE);
    var load = inferno.run("load", "-i", tar.toString());
    assertThat(load.code()).as(load.toString()).isZero();
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.close();
    }
  }

  @Test
  void sizesKilnRefusesAreRefusedUpFrontAndLeaveNoRecord() throws Exception {
    var cpus = inferno.run("run", "--rm", "--cpus", "33", IMAGE, "echo", "hi");
    assertThat(cpus.code()).as(cpus.toString()).isEqualTo(125);
    assertThat(cpus.err()).isEqualTo("inferno: vcpus must be 1 to 32 (the VMM's limit), not 33\n");
    var memory = inferno.run("run", "--name", "huge", "-m", "99999t", IMAGE, "echo", "hi");
    assertThat(memory.code()).as(memory.toString()).isEqualTo(125);
    assertThat(memory.err())
        .startsWith("inferno: a VM cannot have ")
        .contains("MemTotal in /proc/meminfo")
        .hasLineCount(1);
    var ps = inferno.run("ps", "-a", "-q");
    assertThat(ps.out()).as("no record left").isEmpty();
  }

  @Test
  void aVmmThatDiesBeforeTheGuestStartsTellsTheUserWhy() throws Exception {
    var attached = inferno.run("run", "--rm", IMAGE, "echo", "hi");
    assertThat(attached.code()).as(attached.toString()).isEqualTo(125);
    assertThat(attached.out()).isEmpty();
    assertThat(attached.err())
        .startsWith("inferno: ")
        .contains("the VMM exited before the guest started")
        .contains("qemu-system-x86_64: -no-such-option: invalid option");

    var detached = inferno.run("run", "-d", "--name", "broken", IMAGE, "echo", "hi");
    assertThat(detached.code()).as(detached.toString()).isZero();
    awaitExited("broken");
    var inspect = inferno.run("inspect", "broken");
    assertThat(inspect.code()).as(inspect.toString()).isZero();
    assertThat(inspect.out())
        .contains("the VMM exited before the guest started")
        .contains("-no-such-option: invalid option");
    assertThat(inferno.run("rm", "broken").code()).isZero();
  }

  private void awaitExited(String vm) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      var r = inferno.run("inspect", vm);
      Map<?, ?> m = (Map<?, ?>) ((List<?>) Json.parse(r.out())).getFirst();
      if ("exited".equals(m.get("state"))) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(vm + " did not exit: " + inferno.run("inspect", vm));
  }

  private static void sh(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
  }
}
