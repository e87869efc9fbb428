package dev.inferno.image.unpack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.image.testing.Proc;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Binary xattr values (security.capability and friends) survive a layer byte for byte. */
class XattrTest {
  @TempDir Path tmp;

  @Test
  void binaryXattrValuesAreKeptExactly() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("a"), "a");
    Files.writeString(src.resolve("b"), "b");
    Files.writeString(src.resolve("c" + "x".repeat(150)), "long name"); // GNU/PAX long name
    // bytes that are not UTF-8: commons-compress alone would mangle them
    Proc.run(
        "python3",
        "-c",
        "import os,sys; d=sys.argv[1];"
            + "os.setxattr(d+'/a','user.bin',bytes([1,0,0,2,0xff,0xfe,0x80,0x20]));"
            + "os.setxattr(d+'/b','user.text',b'plain');"
            + "os.setxattr(d+'/c'+'x'*150,'user.bin',bytes([0xc3,0x28]))",
        src.toString());
    Path tar = tmp.resolve("layer.tar");
    Proc.run(
        "tar",
        "--xattrs",
        "--xattrs-include=user.*",
        "--format=posix",
        "-C",
        src.toString(),
        "-cf",
        tar.toString(),
        ".");
    Path root = Files.createDirectories(tmp.resolve("root"));
    LayerUnpacker.Stats stats;
    try (InputStream in = Files.newInputStream(tar)) {
      stats = new LayerUnpacker(root, LayerUnpacker.Limits.DEFAULT).apply(in);
    }
    assertThat(stats.skippedXattrs()).isZero();
    assertThat(getxattr(root.resolve("a"), "user.bin")).isEqualTo("01000002fffe8020");
    assertThat(getxattr(root.resolve("b"), "user.text"))
        .isEqualTo(HexFormat.of().formatHex("plain".getBytes()));
    assertThat(getxattr(root.resolve("c" + "x".repeat(150)), "user.bin")).isEqualTo("c328");
  }

  private static String getxattr(Path p, String name) {
    return Proc.run(
            "python3",
            "-c",
            "import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2]).hex())",
            p.toString(),
            name)
        .strip();
  }
}
