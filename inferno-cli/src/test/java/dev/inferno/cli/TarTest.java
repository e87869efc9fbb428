package dev.inferno.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cp's host-side tar: GNU tar reads what it writes and it reads GNU tar's; hostile entries fail.
 */
class TarTest {
  @TempDir Path dir;

  private static final String LONG = "d".repeat(60) + "/" + "f".repeat(70) + ".txt";

  private Path tree() throws IOException {
    Path src = dir.resolve("src");
    Files.createDirectories(src.resolve("sub").resolve("d".repeat(60)));
    Files.writeString(src.resolve("a.txt"), "alpha\n");
    Files.setAttribute(src.resolve("a.txt"), "unix:mode", 0754);
    Files.setLastModifiedTime(src.resolve("a.txt"), FileTime.fromMillis(1_700_000_000_000L));
    Files.writeString(src.resolve("sub").resolve(LONG), "long\n");
    Files.write(src.resolve("sub/big.bin"), new byte[70_000]);
    Files.createSymbolicLink(src.resolve("link"), Path.of("a.txt"));
    Files.createSymbolicLink(src.resolve("far"), Path.of("/" + "x".repeat(120)));
    return src;
  }

  private static String sh(Path cwd, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", cmd) + "\n" + out).isZero();
    return out;
  }

  private void assertTree(Path out) throws IOException {
    assertThat(out.resolve("a.txt")).hasContent("alpha");
    assertThat(Files.getAttribute(out.resolve("a.txt"), "unix:mode")).isEqualTo(0100754);
    assertThat(Files.getLastModifiedTime(out.resolve("a.txt")).toMillis())
        .isEqualTo(1_700_000_000_000L);
    assertThat(out.resolve("sub").resolve(LONG)).hasContent("long");
    assertThat(Files.size(out.resolve("sub/big.bin"))).isEqualTo(70_000);
    assertThat(Files.readSymbolicLink(out.resolve("link"))).isEqualTo(Path.of("a.txt"));
    assertThat(Files.readSymbolicLink(out.resolve("far")))
        .isEqualTo(Path.of("/" + "x".repeat(120)));
  }

  @Test
  void gnuTarUnpacksWhatWeWrite() throws Exception {
    Path src = tree();
    Path tar = dir.resolve("out.tar");
    try (var out = Files.newOutputStream(tar)) {
      Tar.write(src, "copy", out);
    }
    Path x = Files.createDirectory(dir.resolve("x"));
    sh(x, "tar", "-xpf", tar.toString());
    assertTree(x.resolve("copy"));
  }

  @Test
  void weUnpackWhatGnuTarWritesWithPaxNamesAndRename() throws Exception {
    tree(); // dir/src, which GNU tar packs below
    Path tar = dir.resolve("gnu.tar");
    sh(dir, "tar", "--format=pax", "-cf", tar.toString(), "src");
    Path x = Files.createDirectory(dir.resolve("x"));
    try (var in = Files.newInputStream(tar)) {
      Tar.extract(in, x, "renamed");
    }
    assertTree(x.resolve("renamed"));
    assertThat(x.resolve("src")).doesNotExist();
  }

  @Test
  void aRoundTripKeepsATreeAndReplacesWhatIsInTheWay() throws Exception {
    Path src = tree();
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    Tar.write(src, "src", b);
    Path x = Files.createDirectory(dir.resolve("x"));
    Files.createDirectory(x.resolve("src"));
    Files.writeString(x.resolve("src/link"), "a file where the archive has a symlink");
    Tar.extract(new ByteArrayInputStream(b.toByteArray()), x, null);
    assertTree(x.resolve("src"));
  }

  /** A tar with one entry, written by GNU tar from a crafted tree (names as given). */
  private byte[] hostile(List<String> tarArgs) throws Exception {
    Path tar = dir.resolve("h" + System.nanoTime() + ".tar");
    List<String> cmd = new java.util.ArrayList<>(List.of("tar", "-cf", tar.toString()));
    cmd.addAll(tarArgs);
    sh(dir, cmd.toArray(String[]::new));
    return Files.readAllBytes(tar);
  }

  @Test
  void hostileEntriesAreRefusedAndNothingLandsOutside() throws Exception {
    Files.writeString(dir.resolve("victim"), "x");
    Path dest = Files.createDirectory(dir.resolve("dest"));
    // ../victim through tar's --transform (tar itself would strip it when creating)
    byte[] dotdot = hostile(List.of("--transform", "s,^victim$,../victim,", "-P", "victim"));
    assertThatThrownBy(() -> Tar.extract(new ByteArrayInputStream(dotdot), dest, null))
        .hasMessageContaining("..");
    byte[] absolute = hostile(List.of("-P", dir.resolve("victim").toString()));
    assertThatThrownBy(() -> Tar.extract(new ByteArrayInputStream(absolute), dest, null))
        .hasMessageContaining("absolute");
    // a symlink to outside, then a file "through" it
    Path evil = Files.createDirectory(dir.resolve("evil"));
    Files.createSymbolicLink(evil.resolve("out"), dir);
    Path out2 = Files.createDirectory(dir.resolve("evil2"));
    Files.createDirectory(out2.resolve("out"));
    Files.writeString(out2.resolve("out/victim"), "overwritten");
    byte[] first = hostile(List.of("-C", evil.toString(), "out"));
    byte[] second = hostile(List.of("-C", out2.toString(), "out/victim"));
    // the entries of the first, then the second (GNU tar pads to 10 KiB: cut at the end marker)
    int end = endOf(first);
    byte[] both = new byte[end + second.length];
    System.arraycopy(first, 0, both, 0, end);
    System.arraycopy(second, 0, both, end, second.length);
    byte[] crafted = both;
    assertThatThrownBy(() -> Tar.extract(new ByteArrayInputStream(crafted), dest, null))
        .hasMessageContaining("symlink");
    assertThat(dir.resolve("victim")).hasContent("x"); // never written through the symlink
    assertThat(Files.isSymbolicLink(dest.resolve("out"))).isTrue();
  }

  /** The offset of the first all-zero header block (the end of the entries). */
  private static int endOf(byte[] tar) {
    for (int off = 0; off + 512 <= tar.length; off += 512) {
      boolean zero = true;
      for (int i = off; i < off + 512 && zero; i++) {
        zero = tar[i] == 0;
      }
      if (zero) {
        return off;
      }
    }
    return tar.length;
  }
}
