package dev.inferno.sys;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/** Recursive delete: the one implementation every module uses. */
public final class FileTrees {
  private static final Set<PosixFilePermission> OWNER_RWX =
      Set.of(
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);

  private FileTrees() {}

  /**
   * Deletes a file, a symlink or a whole directory tree. Never follows a symlink (a link in the
   * tree, or {@code path} itself, is removed, not its target), so a hostile image layer cannot make
   * it delete outside the tree. A directory without owner rwx (a layer's {@code 0555} dir) is
   * opened up first, which matters when not root. A missing path, or an entry a concurrent deleter
   * removed first, is not an error.
   */
  public static void delete(Path path) throws IOException {
    PosixFileAttributes a;
    try {
      a = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException gone) {
      return;
    }
    if (a.isDirectory()) {
      if (!a.permissions().containsAll(OWNER_RWX)) {
        openUp(path, a);
      }
      try (DirectoryStream<Path> children = Files.newDirectoryStream(path)) {
        for (Path child : children) {
          delete(child);
        }
      } catch (NoSuchFileException gone) {
        return;
      }
    }
    Files.deleteIfExists(path);
  }

  private static void openUp(Path dir, PosixFileAttributes a) {
    int mode = 0700;
    for (PosixFilePermission p : a.permissions()) {
      mode |=
          switch (p) {
            case OWNER_READ -> 0400;
            case OWNER_WRITE -> 0200;
            case OWNER_EXECUTE -> 0100;
            case GROUP_READ -> 040;
            case GROUP_WRITE -> 020;
            case GROUP_EXECUTE -> 010;
            case OTHERS_READ -> 04;
            case OTHERS_WRITE -> 02;
            case OTHERS_EXECUTE -> 01;
          };
    }
    try {
      // chmod(2) itself: NIO's no-follow chmod opens the dir, which a 0000 dir refuses
      FileNodes.chmod(dir, mode);
    } catch (SyscallException e) {
      // not the owner, or a concurrent deleter was first: the listing or unlink says what is wrong
    }
  }
}
