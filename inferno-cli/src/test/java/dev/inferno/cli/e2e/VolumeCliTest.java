package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** volume verbs, -v/--mount/--tmpfs and rm -v through the real bin/inferno and a test daemon. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VolumeCliTest {
  @TempDir static Path dir;
  Inferno inferno;

  @BeforeAll
  void start() throws Exception {
    inferno = Inferno.start(dir);
  }

  @AfterAll
  void stop() throws Exception {
    inferno.close();
  }

  @Test
  void createListInspectRemove() throws Exception {
    var r = inferno.run("volume", "create", "--size", "16m", "--label", "app=web", "site");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("site\n");
    r = inferno.run("volume", "ls");
    assertThat(r.out()).contains("DRIVER").contains("VOLUME NAME").containsPattern("local +site");
    assertThat(inferno.run("volume", "ls", "-q").out()).contains("site\n");
    r = inferno.run("volume", "inspect", "site", "nosuch");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).contains("\"name\": \"site\"").contains("\"app\": \"web\"");
    assertThat(r.err()).contains("no such volume: nosuch");
    r = inferno.run("volume", "rm", "site");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(inferno.run("volume", "ls", "-q").out()).doesNotContain("site");
    assertThat(inferno.run("volume", "rm", "site").code()).isEqualTo(1);
    assertThat(inferno.run("volume", "rm", "-f", "site").code()).isZero();
    r = inferno.run("volume", "create", "--size", "lots");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err()).startsWith("inferno: invalid --size");
  }

  @Test
  void aSecondReadWriteAttachIsRefusedAndRmVTakesAnonymousVolumes() throws Exception {
    var r =
        inferno.run(
            "run",
            "-d",
            "--name",
            "holder",
            "--network",
            "none",
            "-v",
            "shared:/data",
            "-v",
            "/scratch",
            "--tmpfs",
            "/run/x:size=1m",
            "busybox",
            "sleep",
            "30");
    assertThat(r.code()).as(r.toString()).isZero();
    r =
        inferno.run(
            "run",
            "--name",
            "second",
            "--network",
            "none",
            "--mount",
            "type=volume,src=shared,dst=/d",
            "busybox",
            "true");
    assertThat(r.code()).as(r.toString()).isEqualTo(125);
    assertThat(r.err()).contains("volume shared is in use read-write by VM holder");

    var inspect = inferno.run("inspect", "holder");
    assertThat(inspect.out()).contains("\"target\": \"/scratch\"").contains("\"/run/x\"");
    String volumes = inferno.run("volume", "ls", "-q").out();
    assertThat(volumes.lines().filter(l -> l.matches("[0-9a-f]{64}")).count()).isEqualTo(1);

    r = inferno.run("rm", "-f", "-v", "holder");
    assertThat(r.code()).as(r.toString()).isZero();
    volumes = inferno.run("volume", "ls", "-q").out();
    assertThat(volumes).contains("shared");
    assertThat(volumes.lines().filter(l -> l.matches("[0-9a-f]{64}")).count()).isZero();
    r = inferno.run("volume", "prune", "-f", "-a");
    assertThat(r.out()).contains("Deleted Volumes:\nshared\n").contains("Total reclaimed space:");
  }

  @Test
  void badMountsAreRefusedBeforeAnythingIsPulledOrCreated() throws Exception {
    var r = inferno.run("run", "-v", "/srv/site:/site", "alpine:3.20", "true");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err())
        .isEqualTo(
            "inferno: a VM cannot share a host directory (no virtio-fs on Firecracker): use a"
                + " named volume (-v NAME:/path) and `inferno cp` to move files in\n");
    r = inferno.run("run", "--mount", "type=tmpfs,dst=/t,colour=red", "busybox", "true");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err()).contains("unknown key \"colour\"");
    r = inferno.run("run", "--tmpfs", "/t:noexec", "busybox", "true");
    assertThat(r.code()).isEqualTo(125);
    r = inferno.run("run", "-v", "data:/d", "--tmpfs", "/d", "busybox", "true");
    assertThat(r.code()).isEqualTo(125);
    assertThat(r.err()).contains("duplicate mount target /d");
    assertThat(inferno.run("images").out()).doesNotContain("alpine");
    assertThat(inferno.run("ps", "-a", "-q").out()).isEmpty();
  }
}
