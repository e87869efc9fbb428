package dev.inferno.kiln.vm;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The per-VM writable disk: a sparse file formatted ext4 by mke2fs. Sparse, so a 10 GiB disk costs
 * only the blocks the guest writes.
 */
public final class WritableDisk {
  private WritableDisk() {}

  public static void create(Path file, long bytes) throws IOException {
    Files.deleteIfExists(file);
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(bytes);
    }
    // -F: it is a file, not a block device; -m 0: no root reservation in a one-workload disk;
    // lazy init keeps mke2fs from writing every inode table now (the guest kernel finishes it).
    ProcessBuilder pb =
        new ProcessBuilder(
                "mke2fs",
                "-t",
                "ext4",
                "-q",
                "-F",
                "-m",
                "0",
                "-E",
                "lazy_itable_init=1,lazy_journal_init=1",
                file.toString())
            .redirectErrorStream(true);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new VmmException("cannot run mke2fs: install e2fsprogs", e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new VmmException("mke2fs on " + file + " did not finish in 60 s");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new VmmException("interrupted while formatting " + file, e);
    }
    if (p.exitValue() != 0) {
      throw new VmmException("mke2fs failed on " + file + ": " + out.strip());
    }
  }
}
