package dev.inferno.image.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** A comparable summary of a directory tree: type, permissions, owner, size, content hash, link. */
public final class RootfsCompare {
  private RootfsCompare() {}

  /**
   * path → "type perm uid:gid size sha256|target"; {@code skip} names top-level entries to leave
   * out.
   */
  public static Map<String, String> summary(Path root, String... skip) throws IOException {
    Map<String, String> out = new TreeMap<>();
    java.util.Set<String> skipped = java.util.Set.of(skip);
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a)
              throws IOException {
            String rel = root.relativize(d).toString();
            if (!rel.isEmpty() && skipped.contains(rel)) {
              return FileVisitResult.SKIP_SUBTREE;
            }
            out.put(rel.isEmpty() ? "." : rel, describe(d, "d"));
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
            String rel = root.relativize(f).toString();
            if (skipped.contains(rel)) {
              return FileVisitResult.CONTINUE;
            }
            if (a.isSymbolicLink()) {
              out.put(rel, describe(f, "l") + " -> " + Files.readSymbolicLink(f));
            } else if (a.isRegularFile()) {
              out.put(rel, describe(f, "f") + " " + a.size() + " " + sha256(f));
            } // devices, fifos, sockets: debugfs rdump does not write them
            return FileVisitResult.CONTINUE;
          }
        });
    return out;
  }

  private static String describe(Path p, String type) throws IOException {
    Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
    int perm = ((Integer) a.get("mode")) & (type.equals("l") ? 0 : 0777);
    return type + " " + Integer.toOctalString(perm) + " " + a.get("uid") + ":" + a.get("gid");
  }

  private static String sha256(Path f) throws IOException {
    MessageDigest md = dev.inferno.image.ref.Digest.sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(f)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
