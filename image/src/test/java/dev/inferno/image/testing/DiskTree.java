package dev.inferno.image.testing;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads an ext4 image with debugfs (no mount): directory listings, file contents, xattrs. */
public final class DiskTree {
  /** One {@code ls -p} line: {@code /inode/mode/uid/gid/name/size/}. */
  public record Node(long inode, int mode, int uid, int gid, String name, long size) {
    public boolean isDir() {
      return (mode & 0170000) == 0040000;
    }

    public boolean isSymlink() {
      return (mode & 0170000) == 0120000;
    }

    public boolean isChar() {
      return (mode & 0170000) == 0020000;
    }

    public boolean isFifo() {
      return (mode & 0170000) == 0010000;
    }

    public int perm() {
      return mode & 07777;
    }
  }

  private final Path disk;

  public DiskTree(Path disk) {
    this.disk = disk;
  }

  private String debugfs(String request) {
    return Proc.run("debugfs", "-R", request, disk.toString());
  }

  /** Entries of a directory, without . and .. */
  public Map<String, Node> ls(String dir) {
    Map<String, Node> out = new LinkedHashMap<>();
    for (String line : debugfs("ls -p " + dir).split("\n")) {
      if (!line.startsWith("/")) {
        continue;
      }
      String[] f = line.split("/", -1);
      // "", inode, mode(octal), uid, gid, name, size, ""
      if (f.length < 7 || f[5].equals(".") || f[5].equals("..") || f[5].isEmpty()) {
        continue;
      }
      out.put(
          f[5],
          new Node(
              Long.parseLong(f[1]),
              Integer.parseInt(f[2], 8),
              Integer.parseInt(f[3]),
              Integer.parseInt(f[4]),
              f[5],
              f[6].isEmpty() ? 0 : Long.parseLong(f[6])));
    }
    return out;
  }

  public String cat(String path) {
    return debugfs("cat " + path).replaceFirst("(?s)^debugfs [^\\n]*\\n", "");
  }

  /** The full {@code stat} text (symlink targets show as "Fast link dest"). */
  public String stat(String path) {
    return debugfs("stat " + path);
  }

  public String xattr(String path, String name) {
    return debugfs("ea_get " + path + " " + name)
        .replaceFirst("(?s)^debugfs [^\\n]*\\n", "")
        .strip();
  }

  public static void fsck(Path disk) {
    Proc.run("e2fsck", "-fn", disk.toString());
  }
}
