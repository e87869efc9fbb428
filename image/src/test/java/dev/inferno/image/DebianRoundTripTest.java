package dev.inferno.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.testing.DiskTree;
import dev.inferno.image.testing.LocalRegistry;
import dev.inferno.image.testing.OciLayout;
import dev.inferno.image.testing.Proc;
import dev.inferno.image.testing.RootfsCompare;
import dev.inferno.image.testing.TestDatabase;
import dev.inferno.image.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A debootstrap Debian rootfs round-trips: tar → OCI layout → real registry → pull → ext4 disk →
 * debugfs rdump, and the dumped tree equals the original (types, permissions, owners, contents,
 * link targets). Opt-in: it needs a rootfs (≈300 MB) that {@code bench/image/run.sh} makes with
 * debootstrap; point {@code INFERNO_DEBIAN_ROOTFS} at it.
 */
@EnabledIfEnvironmentVariable(named = "INFERNO_DEBIAN_ROOTFS", matches = ".+")
class DebianRoundTripTest {
  @TempDir Path tmp;

  @Test
  void aDebootstrapRootfsRoundTrips() throws Exception {
    Path rootfs = Path.of(System.getenv("INFERNO_DEBIAN_ROOTFS"));
    Path tar = tmp.resolve("layer.tar");
    Proc.run(
        "tar", "--numeric-owner", "--xattrs", "-C", rootfs.toString(), "-cf", tar.toString(), ".");
    OciLayout layout = new OciLayout(tmp.resolve("layout"));
    OciLayout.FileLayer layer = layout.gzipLayer(tar);
    Files.delete(tar);
    layout.tag(
        "bookworm", layout.image(List.of(layer), "amd64", TestImages.config("/bin/bash"), true));
    try (LocalRegistry registry =
        LocalRegistry.start(tmp.resolve("registry"), LocalRegistry.Auth.NONE)) {
      registry.push(layout.dir(), "bookworm", "debian");
      ImageService images =
          new ImageService(
              tmp.resolve("state"),
              TestDatabase.migrated(tmp.resolve("inferno.db")),
              new RegistryClient(CredentialSource.NONE, Set.of()));
      Image image =
          images.pull(
              registry.hostPort() + "/debian:bookworm", Platform.DEFAULT, PullProgress.NONE);
      DiskTree.fsck(image.disk());
      Path out = Files.createDirectory(tmp.resolve("dump"));
      Proc.run("debugfs", "-R", "rdump / " + out, image.disk().toString());
      Map<String, String> want = RootfsCompare.summary(rootfs, "dev", "proc", "sys");
      Map<String, String> got = RootfsCompare.summary(out, "dev", "proc", "sys", "lost+found");
      assertThat(want.size()).isGreaterThan(5000);
      // root dir: rdump's target dir is ours, not the image's
      want.remove(".");
      got.remove(".");
      assertThat(got).containsExactlyInAnyOrderEntriesOf(want);
      assertThat(new DiskTree(image.disk()).ls("/usr/bin").get("passwd").perm()).isEqualTo(04755);
      Path ping = rootfs.resolve("usr/bin/ping");
      if (Files.exists(ping)
          && Proc.exec(
                      "python3",
                      "-c",
                      "import os,sys; os.getxattr(sys.argv[1], 'security.capability')",
                      ping.toString())
                  .code()
              == 0) {
        // file capabilities (binary xattr values) reach the disk
        assertThat(Proc.run("debugfs", "-R", "ea_list /usr/bin/ping", image.disk().toString()))
            .contains("security.capability");
      }
    }
  }
}
