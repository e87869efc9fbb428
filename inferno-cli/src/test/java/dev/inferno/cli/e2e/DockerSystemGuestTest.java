package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The docker CLIs (Debian's 20.10 and the newer one) against inferno's Docker API: version, info,
 * pull from a real docker-registry (progress, an unknown tag), images, rmi, and events showing a
 * container that the inferno CLI ran (one real guest, QEMU TCG; real kernel and init from build/).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerSystemGuestTest {

  @TempDir static Path dir;
  Inferno inferno;
  LocalRegistry registry;
  String repo;

  @BeforeAll
  void start() throws Exception {
    registry = LocalRegistry.start(dir.resolve("registry"));
    int port = registry.port;
    repo = "127.0.0.1:" + port + "/tools/busybox";
    Path layout = dir.resolve("layout");
    Inferno.sh(Inferno.ROOT.resolve("scripts/make-busybox-image.sh").toString(), layout.toString());
    Inferno.sh(
        "skopeo",
        "copy",
        "-q",
        "--dest-tls-verify=false",
        "oci:" + layout + ":latest",
        "docker://" + repo + ":1");
    inferno =
        Inferno.startGuests(
            dir,
            "network-table = inferno_dk_y\nnetwork-tap-prefix = idy\nnetwork-pool = 10.243.0.0/16\n"
                + "insecure-registries = 127.0.0.1:"
                + port
                + "\n");
  }

  @AfterAll
  void stop() throws Exception {
    if (inferno != null) {
      inferno.removeAllAndClose();
    }
    if (registry != null) {
      registry.close();
    }
  }

  @Test
  void versionShowsClientAndServerWithTheApiRange() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      var r = inferno.docker(cli, "version");
      assertThat(r.code()).as(cli + ": " + r).isZero();
      assertThat(r.out()).as(cli.toString()).contains("Client:", "Server:", "Engine:");
      assertThat(r.out()).as(cli.toString()).contains("1.44 (minimum version 1.24)");
      assertThat(r.out()).as(cli.toString()).contains("OS/Arch:").contains("linux/");
      var f = inferno.docker(cli, "version", "--format", "{{.Server.APIVersion}}");
      assertThat(f.out().strip()).as(cli.toString()).isEqualTo("1.44");
    }
  }

  @Test
  void infoShowsTheServer() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      var r = inferno.docker(cli, "info");
      assertThat(r.code()).as(cli + ": " + r).isZero();
      assertThat(r.out())
          .as(cli.toString())
          .contains("Server Version:", "Operating System:", "OSType: linux", "Total Memory:")
          .contains("Docker Root Dir: " + dir.resolve("state"))
          .contains("Containers: ", "Images: ");
      var f = inferno.docker(cli, "info", "--format", "{{.OSType}} {{.NCPU}} {{.DefaultRuntime}}");
      assertThat(f.code()).as(f.toString()).isZero();
      assertThat(f.out().strip())
          .as(cli.toString())
          .isEqualTo("linux " + Runtime.getRuntime().availableProcessors() + " qemu");
    }
  }

  @Test
  void loadADockerSaveArchiveWithBothClisAndRunIt() throws Exception {
    // a real docker-save archive (manifest.json, RepoTags), made by skopeo from the busybox layout
    Path archive = dir.resolve("saved.tar");
    Inferno.sh(
        "skopeo",
        "copy",
        "-q",
        "oci:" + dir.resolve("layout") + ":latest",
        "docker-archive:" + archive + ":tools/loaded:1");
    for (Path cli : Inferno.dockerClis()) {
      var load = inferno.docker(cli, "load", "-i", archive.toString());
      assertThat(load.code()).as(cli + ": " + load).isZero();
      assertThat(load.out()).as(cli.toString()).isEqualTo("Loaded image: tools/loaded:1\n");
      assertThat(inferno.docker(cli, "images", "tools/loaded").out()).contains("tools/loaded ");
      if (!cli.equals(Inferno.dockerClis().getLast())) {
        assertThat(inferno.docker(cli, "rmi", "tools/loaded:1").code()).isZero();
      }
    }
    Path cli = Inferno.dockerClis().getLast();
    var run =
        inferno.docker(cli, "run", "--rm", "--network", "none", "tools/loaded:1", "echo", "ok");
    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(run.out()).isEqualTo("ok\n");
    Path notATar = java.nio.file.Files.writeString(dir.resolve("not-a.tar"), "no archive here\n");
    var junk = inferno.docker(cli, "load", "-i", notATar.toString());
    assertThat(junk.code()).as(junk.toString()).isEqualTo(1);
    assertThat(junk.err()).startsWith("Error response from daemon: ");
    assertThat(inferno.docker(cli, "rmi", "tools/loaded:1").code()).isZero();
  }

  @Test
  void saveRmiLoadAndRunWithBothClisAndInfernoSaveIntoLoad() throws Exception {
    inferno.loadBusybox("tools/saved:1"); // a layout of its own: the shared one stays as it is
    String id = inferno.dockerOk(Inferno.DEBIAN_DOCKER, "images", "-q", "tools/saved:1").out();
    for (Path cli : Inferno.dockerClis()) {
      Path tar = dir.resolve("docker-save-" + cli.getParent().getFileName() + ".tar");
      var save = inferno.dockerOk(cli, "save", "-o", tar.toString(), "tools/saved:1");
      assertThat(save.out()).isEmpty();
      assertThat(Inferno.sh("tar", "-tf", tar.toString()).lines())
          .as(cli.toString())
          .contains("manifest.json", "index.json", "oci-layout", "repositories");
      inferno.dockerOk(cli, "rmi", "tools/saved:1");
      assertThat(inferno.docker(cli, "images", "-q", "tools/saved:1").out()).isEmpty();
      var load = inferno.dockerOk(cli, "load", "-i", tar.toString());
      assertThat(load.out()).as(cli.toString()).isEqualTo("Loaded image: tools/saved:1\n");
      assertThat(inferno.docker(cli, "images", "-q", "tools/saved:1").out())
          .as("the same image id after the round trip")
          .isEqualTo(id);
    }
    var run =
        inferno.docker(
            Inferno.dockerClis().getLast(),
            "run",
            "--rm",
            "--network",
            "none",
            "tools/saved:1",
            "echo",
            "saved and loaded");
    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(run.out()).isEqualTo("saved and loaded\n");

    // inferno save | inferno load through a shell's pipe; then through a file with the image
    // removed in between, so that the load really builds it from the archive
    assertThat(inferno.run("rmi", "tools/saved:1").code()).isZero();
    inferno.loadBusybox("tools/saved:1");
    String cli = Inferno.BIN + " --socket " + inferno.socket;
    Path file = dir.resolve("inferno-save.tar");
    var piped =
        Inferno.finish(
            new ProcessBuilder(
                    "bash",
                    "-c",
                    "set -eo pipefail; "
                        + (cli + " save tools/saved:1 | " + cli + " load; ")
                        + (cli + " save tools/saved:1 > " + file + "; ")
                        + (cli + " rmi tools/saved:1 > /dev/null; ")
                        + (cli + " load < " + file))
                .start(),
            120);
    assertThat(piped.code()).as(piped.toString()).isZero();
    assertThat(piped.out())
        .isEqualTo(
            "Loaded image: docker.io/tools/saved:1\nLoaded image: docker.io/tools/saved:1\n");
    var again =
        inferno.run("run", "--rm", "--network", "none", "tools/saved:1", "echo", "piped back");
    assertThat(again.code()).as(again.toString()).isZero();
    assertThat(again.out()).isEqualTo("piped back\n");
    assertThat(inferno.run("rmi", "tools/saved:1").code()).isZero();
  }

  @Test
  void pullImagesAndRmiWithBothClis() throws Exception {
    for (Path cli : Inferno.dockerClis()) {
      var pull = inferno.docker(cli, "pull", repo + ":1");
      assertThat(pull.code()).as(cli + ": " + pull).isZero();
      assertThat(pull.out())
          .as(cli.toString())
          .contains("1: Pulling from tools/busybox")
          .contains("Pull complete")
          .contains("Digest: sha256:")
          .contains("Status: Downloaded newer image for " + repo + ":1");
      var again = inferno.docker(cli, "pull", repo + ":1");
      assertThat(again.out()).contains("Status: Image is up to date for " + repo + ":1");

      var unknown = inferno.docker(cli, "pull", repo + ":nope");
      assertThat(unknown.code()).as(unknown.toString()).isEqualTo(1);
      assertThat(unknown.err())
          .as(cli.toString())
          .contains("Error response from daemon: manifest for " + repo + ":nope not found");

      var images = inferno.docker(cli, "images");
      assertThat(images.code()).as(images.toString()).isZero();
      assertThat(images.out().lines().filter(l -> l.startsWith(repo + " ")))
          .as(cli + ": " + images.out())
          .singleElement()
          .satisfies(l -> assertThat(l.split("\\s+")[1]).isEqualTo("1"));
      var ids = inferno.docker(cli, "images", "-q", repo);
      assertThat(ids.out().strip()).as(cli.toString()).hasSize(12);

      var rmi = inferno.docker(cli, "rmi", repo + ":1");
      assertThat(rmi.code()).as(cli + ": " + rmi).isZero();
      assertThat(rmi.out()).contains("Untagged: " + repo + ":1", "Deleted: sha256:");
      assertThat(inferno.docker(cli, "images").out()).doesNotContain(repo);
      var again2 = inferno.docker(cli, "rmi", repo + ":1");
      assertThat(again2.code()).isEqualTo(1);
      assertThat(again2.err()).contains("No such image: " + repo + ":1");
    }
  }

  @Test
  void eventsShowAContainerStartAndDie() throws Exception {
    long since = Instant.now().getEpochSecond() - 1;
    var run = inferno.run("run", "--rm", "--network", "none", "--name", "evd", repo + ":1", "true");
    assertThat(run.code()).as(run.toString()).isZero();
    String until = String.valueOf(Instant.now().getEpochSecond() + 1);
    for (Path cli : Inferno.dockerClis()) {
      var ev =
          inferno.docker(
              cli,
              "events",
              "--since",
              String.valueOf(since),
              "--until",
              until,
              "--filter",
              "container=evd");
      assertThat(ev.code()).as(cli + ": " + ev).isZero();
      var lines = ev.out().lines().toList();
      assertThat(lines)
          .as(cli + ": " + ev.out())
          .anySatisfy(l -> assertThat(l).contains(" container start ").contains("name=evd"))
          .anySatisfy(l ->
              assertThat(l)
                  .contains(" container die ")
                  .contains("exitCode=0, ")
                  .contains("name=evd"));
      assertThat(lines).allSatisfy(l -> assertThat(l).contains("name=evd"));
      var images =
          inferno.docker(
              cli,
              "events",
              "--since",
              String.valueOf(since),
              "--until",
              until,
              "--filter",
              "type=image");
      assertThat(images.out()).as(cli.toString()).contains(" image pull " + repo + ":1");
    }
    // the image stays for the next test's pulls: removed there
    inferno.docker(Inferno.DEBIAN_DOCKER, "rmi", repo + ":1");
  }
}
