package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Volumes, tmpfs and --read-only on real guests (QEMU TCG, build/kernel and build/init, the
 * busybox-static image of scripts/make-busybox-image.sh, once more with a VOLUME). Every VM runs
 * with --network none; the daemon's nftables table and TAP prefix are this test's own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VolumeGuestTest {
  static final String TABLE = "inferno_vol_e2e";

  @TempDir static Path dir;
  Inferno inferno;

  @BeforeAll
  void start() throws Exception {
    inferno =
        Inferno.startGuests(
            dir,
            "network-table = "
                + TABLE
                + "\nnetwork-tap-prefix = ivl\nnetwork-pool = 10.237.64.0/24\nvolume-size = 64m\n");
    inferno.loadBusybox("busybox:latest");
    // the same image with a VOLUME, as a Dockerfile's VOLUME /var/lib/app makes it
    Path withVolume = inferno.busyboxLayout("layout-volume");
    Inferno.sh(
        "umoci", "config", "--image", withVolume + ":latest", "--config.volume", "/var/lib/app");
    inferno.load(withVolume, "volimg:1");
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.removeAllAndClose(); // its own nftables table goes with it
    }
  }

  @Test
  void dataOutlivesTheVmAndReadOnlyMountsRefuseWrites() throws Exception {
    var r =
        inferno.run(
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            "data:/data",
            "busybox",
            "sh",
            "-c",
            "echo kept > /data/f && ls /data");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).contains("f");

    r =
        inferno.run(
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            "data:/data:ro",
            "busybox",
            "sh",
            "-c",
            "cat /data/f; echo no > /data/g");
    assertThat(r.code()).as(r.toString()).isNotZero();
    assertThat(r.out()).isEqualTo("kept\n");
    assertThat(r.err()).contains("Read-only file system");

    // a second read-write attach while the first VM runs
    r =
        inferno.run(
            "run",
            "-d",
            "--name",
            "holder",
            "--network",
            "none",
            "--mount",
            "type=volume,src=data,dst=/data",
            "busybox",
            "sleep",
            "120");
    assertThat(r.code()).as(r.toString()).isZero();
    r = inferno.run("run", "--rm", "--network", "none", "-v", "data:/d", "busybox", "true");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err()).contains("volume data is in use read-write by VM holder");
    assertThat(inferno.run("rm", "-f", "holder").code()).isZero();
    r = inferno.run("volume", "rm", "data");
    assertThat(r.code()).as(r.toString()).isZero();
  }

  @Test
  void readOnlyRootKeepsTmpAndTmpfsWritable() throws Exception {
    var r =
        inferno.run(
            "run",
            "--rm",
            "--network",
            "none",
            "--read-only",
            "--tmpfs",
            "/scratch:size=1m",
            "busybox",
            "sh",
            "-c",
            "echo a > /tmp/a && cat /tmp/a && echo b > /scratch/b && cat /scratch/b"
                + " && grep ' /scratch ' /proc/mounts | grep -c size=1024k; echo c > /etc/c");
    assertThat(r.code()).as(r.toString()).isNotZero();
    assertThat(r.out()).isEqualTo("a\nb\n1\n");
    assertThat(r.err()).contains("Read-only file system");
  }

  @Test
  void anImageVolumeGetsAnAnonymousVolumeThatRmVRemoves() throws Exception {
    var r =
        inferno.run(
            "run",
            "--name",
            "anon",
            "--network",
            "none",
            "volimg:1",
            "sh",
            "-c",
            "grep -c ' /var/lib/app ext4 ' /proc/mounts && echo x > /var/lib/app/f");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("1\n");
    var anons =
        inferno.run("volume", "ls", "-q").out().lines().filter(l -> l.matches("[0-9a-f]{64}"));
    String anon = anons.findFirst().orElseThrow();
    assertThat(inferno.run("rm", "-v", "anon").code()).isZero();
    assertThat(inferno.run("volume", "ls", "-q").out()).doesNotContain(anon);
  }
}
