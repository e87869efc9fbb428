package dev.inferno.image.disk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Turns an unpacked image root into a read-only ext4 disk image with {@code mke2fs -d} (no loop
 * mount, no root needed for the disk itself; ownership, modes, xattrs and hard links come from the
 * root directory). No journal: the disk is only ever mounted read-only. Checked with {@code e2fsck
 * -fn} before it is renamed into place.
 */
public final class DiskBuilder {
  private static final long BLOCK = 4096;
  private static final long INODE_SIZE = 256;

  /** Content measured before sizing. */
  public record Usage(long files, long bytes, long blocks) {}

  private final String mke2fs;
  private final String e2fsck;

  public DiskBuilder() {
    this("mke2fs", "e2fsck");
  }

  public DiskBuilder(String mke2fs, String e2fsck) {
    this.mke2fs = mke2fs;
    this.e2fsck = e2fsck;
  }

  public static Usage measure(Path root) throws IOException {
    long[] acc = new long[3];
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
            acc[0]++;
            acc[2] += 1;
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
            acc[0]++;
            if (a.isRegularFile()) {
              acc[1] += a.size();
              acc[2] += (a.size() + BLOCK - 1) / BLOCK;
            } else if (a.isSymbolicLink()) {
              acc[2] += 1; // long targets need a block; short ones are inline
            }
            return FileVisitResult.CONTINUE;
          }
        });
    return new Usage(acc[0], acc[1], acc[2]);
  }

  /**
   * Builds {@code target} from {@code root}. Retries once, larger, if mke2fs runs out of space
   * (extent trees and directory blocks are estimated, not known).
   */
  public Usage build(Path root, Path target, String label) throws IOException {
    Usage u = measure(root);
    long inodes = u.files() + u.files() / 10 + 64;
    // data + 10% for extent/dir blocks + inode tables + fixed metadata, rounded to 1 MiB
    long bytes = u.blocks() * BLOCK;
    long size = bytes + bytes / 10 + inodes * INODE_SIZE + (16L << 20);
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.createDirectories(target.getParent());
    for (int attempt = 0; ; attempt++) {
      Files.deleteIfExists(tmp);
      long rounded = (size + (1 << 20) - 1) & ~((1L << 20) - 1);
      ProcResult r =
          run(
              List.of(
                  mke2fs,
                  "-q",
                  "-F",
                  "-t",
                  "ext4",
                  "-b",
                  "4096",
                  "-I",
                  "256",
                  "-m",
                  "0",
                  "-N",
                  Long.toString(inodes),
                  "-O",
                  "^has_journal,^resize_inode",
                  "-E",
                  "root_owner=0:0",
                  "-L",
                  label,
                  "-d",
                  root.toString(),
                  tmp.toString(),
                  (rounded / 1024) + "k"));
      if (r.code == 0) {
        break;
      }
      Files.deleteIfExists(tmp);
      if (attempt < 2 && (r.out.contains("Could not allocate") || r.out.contains("No space"))) {
        size = size * 3 / 2;
        inodes = inodes * 3 / 2;
        continue;
      }
      throw new IOException("mke2fs failed (exit " + r.code + "): " + r.out.strip());
    }
    ProcResult check = run(List.of(e2fsck, "-fn", tmp.toString()));
    if (check.code != 0) {
      Files.deleteIfExists(tmp);
      throw new IOException("e2fsck found problems in the new image disk: " + check.out.strip());
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return u;
  }

  private record ProcResult(int code, String out) {}

  private static ProcResult run(List<String> cmd) throws IOException {
    Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException(cmd.getFirst() + " timed out");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + cmd.getFirst(), e);
    }
    return new ProcResult(p.exitValue(), out);
  }

  /** For callers that cannot throw checked exceptions. */
  public Usage buildUnchecked(Path root, Path target, String label) {
    try {
      return build(root, target, label);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
