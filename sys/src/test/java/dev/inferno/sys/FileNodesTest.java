package dev.inferno.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileNodesTest {
  @TempDir Path tmp;

  @Test
  void allocatedBytesAreTheWrittenBlocksOfASparseFileAsDuCountsThem() throws Exception {
    Path f = tmp.resolve("disk.img");
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(64L << 20); // 64 MiB apparent, nothing written
      raf.seek(8L << 20);
      raf.write(new byte[1 << 20]); // 1 MiB of zeros written in the middle: allocated
    }

    long allocated = FileNodes.allocatedBytes(f).orElseThrow();

    assertThat(allocated).isEqualTo(du(f));
    assertThat(allocated).isBetween(1L << 20, 2L << 20); // far below the apparent 64 MiB
  }

  @Test
  void aMissingFileHasNoAllocation() throws Exception {
    assertThat(FileNodes.allocatedBytes(tmp.resolve("nothing"))).isEqualTo(OptionalLong.empty());
  }

  private static long du(Path f) throws Exception {
    Process p = new ProcessBuilder("du", "-B1", "--", f.toString()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isZero();
    return Long.parseLong(out.strip().split("\\s+")[0]);
  }
}
