package dev.inferno.kiln.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.testing.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InitramfsAndDiskTest {

  @Test
  void initramfsHoldsInitRunJsonAndConsole(@TempDir Path dir) throws Exception {
    Path init = Files.write(dir.resolve("myinit"), new byte[] {0x7f, 'E', 'L', 'F', 1, 2, 3});
    Path out = dir.resolve("initramfs.cpio");
    Initramfs.write(out, init, "{\"version\":1}");

    String listing = TestGuest.run(dir, "sh", "-c", "cpio -itv --quiet < initramfs.cpio");
    assertThat(listing)
        .containsPattern("(?m)^drwxr-xr-x .* root +root .* dev$")
        .containsPattern("(?m)^crw------- .* root +root +5, +1 .* dev/console$")
        .containsPattern("(?m)^-rwxr-xr-x .* root +root +7 .* inferno/init$")
        .containsPattern("(?m)^-rw-r--r-- .* root +root +13 .* inferno/run.json$");

    Path x = Files.createDirectories(dir.resolve("x"));
    TestGuest.run(x, "sh", "-c", "cpio -id --quiet --no-absolute-filenames < ../initramfs.cpio");
    assertThat(Files.readAllBytes(x.resolve("inferno/init"))).isEqualTo(Files.readAllBytes(init));
    assertThat(Files.readString(x.resolve("inferno/run.json"))).isEqualTo("{\"version\":1}");
  }

  @Test
  void initramfsIsReproducible(@TempDir Path dir) throws Exception {
    Path init = Files.write(dir.resolve("init"), new byte[] {1, 2, 3});
    Initramfs.write(dir.resolve("a"), init, "{}");
    Initramfs.write(dir.resolve("b"), init, "{}");
    assertThat(Files.readAllBytes(dir.resolve("a")))
        .isEqualTo(Files.readAllBytes(dir.resolve("b")));
    assertThat(Files.size(dir.resolve("a")) % 512).isZero();
  }

  @Test
  void missingInitIsAClearError(@TempDir Path dir) {
    assertThatThrownBy(() -> Initramfs.write(dir.resolve("o"), dir.resolve("nope"), "{}"))
        .isInstanceOf(VmmException.class)
        .hasMessageContaining("init binary")
        .hasMessageContaining("nope");
  }

  @Test
  void writableDiskIsSparseExt4(@TempDir Path dir) throws Exception {
    Path disk = dir.resolve("scratch.ext4");
    WritableDisk.create(disk, 256L << 20);
    assertThat(Files.size(disk)).isEqualTo(256L << 20);
    long allocatedBlocks =
        Long.parseLong(TestGuest.run(dir, "stat", "-c", "%b", disk.toString()).strip());
    // st_blocks counts 512-byte units: well under the 256 MiB apparent size
    assertThat(allocatedBlocks * 512).isLessThan(64L << 20);
    String fsck = TestGuest.run(dir, "e2fsck", "-fn", disk.toString());
    // run() fails on a non-zero exit: -n reports any inconsistency as one
    assertThat(fsck).contains("Pass 5").containsPattern("11/\\d+ files");
    String header = TestGuest.run(dir, "dumpe2fs", "-h", disk.toString());
    assertThat(header).contains("extent").containsPattern("Reserved block count: +0");
  }
}
