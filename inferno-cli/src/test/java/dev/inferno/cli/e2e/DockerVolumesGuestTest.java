package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker volume create|ls|inspect|rm|prune} with both docker CLIs (Debian's 20.10 at API
 * 1.41, the newer one negotiating 1.44) against one daemon, and one real guest (QEMU TCG) mounting
 * a volume the Docker API made: its size option reaches the VM's filesystem, and the volume cannot
 * be removed while the container has it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerVolumesGuestTest {
  @TempDir static Path dir;
  Inferno inferno;

  @BeforeAll
  void start() throws Exception {
    inferno =
        Inferno.startGuests(
            dir,
            "network-table = inferno_dk_v\nnetwork-tap-prefix = ixv\nnetwork-pool = 10.245.0.0/16\n");
    inferno.loadBusybox("busybox:latest");
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.removeAllAndClose();
    }
  }

  private Inferno.Result fails(Path cli, String... args) throws Exception {
    var r = inferno.docker(cli, args);
    assertThat(r.code()).as(cli + " " + String.join(" ", args) + ": " + r).isEqualTo(1);
    return r;
  }

  private List<String> quiet(Path cli, String... filters) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("volume", "ls", "-q"));
    for (String f : filters) {
      args.addAll(List.of("-f", f));
    }
    return inferno.dockerOk(cli, args.toArray(String[]::new)).out().lines().toList();
  }

  private static String tag(Path cli) {
    return cli.equals(Inferno.DEBIAN_DOCKER) ? "d20" : "dnew";
  }

  @Test
  void createListInspectRemoveAndPruneWithBothClis() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      String name = "data-" + tag(cli);
      var made =
          inferno.dockerOk(cli, "volume", "create", "--label", "team=x", "-o", "size=16m", name);
      assertThat(made.out()).isEqualTo(name + "\n");

      var ls = inferno.dockerOk(cli, "volume", "ls");
      assertThat(ls.out()).as(cli.toString()).startsWith("DRIVER").contains("VOLUME NAME");
      assertThat(ls.out().lines())
          .as(cli.toString())
          .anySatisfy(l -> assertThat(l).matches("local\\s+" + name));
      assertThat(quiet(cli, "label=team=x")).as(cli.toString()).contains(name);
      assertThat(quiet(cli, "name=" + name)).as(cli.toString()).containsExactly(name);
      assertThat(quiet(cli, "label=team=y")).as(cli.toString()).doesNotContain(name);
      assertThat(quiet(cli, "dangling=true")).as(cli.toString()).contains(name);

      var inspect =
          inferno.dockerOk(
              cli,
              "volume",
              "inspect",
              "--format",
              "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Options}}",
              name);
      assertThat(inspect.out().strip())
          .as(cli.toString())
          .isEqualTo(name + " local local map[team:x] map[size:16777216]");
      assertThat(fails(cli, "volume", "inspect", "nope").err())
          .as(cli.toString())
          .containsIgnoringCase("no such volume")
          .contains("nope");

      // bad input: refused, nothing made
      String bad = "bad-" + tag(cli);
      assertThat(fails(cli, "volume", "create", "-o", "type=nfs", bad).err())
          .as(cli.toString())
          .contains("create " + bad + ": invalid option: \"type\"");
      assertThat(fails(cli, "volume", "create", "-d", "nfs", bad).err())
          .as(cli.toString())
          .contains("plugin \"nfs\" not found");
      assertThat(fails(cli, "volume", "create", "-o", "size=lots", bad).err())
          .as(cli.toString())
          .contains("invalid size");
      assertThat(quiet(cli)).as(cli.toString()).doesNotContain(bad);

      assertThat(inferno.dockerOk(cli, "volume", "rm", name).out()).isEqualTo(name + "\n");
      // 20.10 words a 404 itself ("No such volume: NAME"), the newer CLI prints dockerd's
      assertThat(fails(cli, "volume", "rm", name).err())
          .as(cli.toString())
          .containsIgnoringCase("no such volume")
          .contains(name);
      inferno.dockerOk(cli, "volume", "rm", "-f", name);

      // no name: dockerd's anonymous volume, which prune (without --all) removes
      String anon = inferno.dockerOk(cli, "volume", "create").out().strip();
      assertThat(anon).as(cli.toString()).matches("[0-9a-f]{64}");
      assertThat(quiet(cli, "label=com.docker.volume.anonymous")).containsExactly(anon);
      assertThat(inferno.dockerOk(cli, "volume", "prune", "-f").out())
          .as(cli.toString())
          .contains(anon);
      assertThat(quiet(cli)).as(cli.toString()).doesNotContain(anon);
    }
  }

  @Test
  void aGuestMountsAVolumeTheDockerApiMade() throws Exception {
    Path old = Inferno.DEBIAN_DOCKER;
    Path cli = Inferno.dockerClis().getLast();
    inferno.dockerOk(old, "volume", "create", "-o", "size=64m", "shared");
    String id =
        inferno
            .dockerOk(
                cli,
                "run",
                "-d",
                "--name",
                "holder",
                "--network",
                "none",
                "-v",
                "shared:/data",
                "busybox",
                "sh",
                "-c",
                "echo from-vm > /data/f; sleep 600")
            .out()
            .strip();
    String seen = "";
    for (int i = 0; i < 60 && !seen.equals("from-vm"); i++) {
      seen = inferno.docker(cli, "exec", "holder", "cat", "/data/f").out().strip();
      if (!seen.equals("from-vm")) {
        Thread.sleep(2000);
      }
    }
    assertThat(seen).isEqualTo("from-vm");
    // the size option reached the guest: a 64 MiB ext4 (less its metadata), in 1k blocks
    String df = inferno.dockerOk(old, "exec", "holder", "df", "-k", "/data").out();
    long blocks = Long.parseLong(df.lines().toList().getLast().trim().split("\\s+")[1]);
    assertThat(blocks).as(df).isBetween(50_000L, 65_536L);

    for (Path c : Inferno.dockerClis()) {
      assertThat(fails(c, "volume", "rm", "shared").err())
          .as(c.toString())
          .contains("remove shared: volume is in use - [" + id + "]");
      assertThat(quiet(c, "dangling=false")).as(c.toString()).containsExactly("shared");
      assertThat(quiet(c, "dangling=true")).as(c.toString()).doesNotContain("shared");
    }
    inferno.dockerOk(cli, "rm", "-f", "holder");
    assertThat(inferno.dockerOk(old, "volume", "rm", "shared").out()).isEqualTo("shared\n");
    assertThat(quiet(cli)).doesNotContain("shared");
  }
}
