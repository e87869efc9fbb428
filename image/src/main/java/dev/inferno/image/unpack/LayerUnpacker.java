package dev.inferno.image.unpack;

import dev.inferno.image.ref.Digest;
import dev.inferno.sys.Errno;
import dev.inferno.sys.FileNodes;
import dev.inferno.sys.FileTrees;
import dev.inferno.sys.Ownership;
import dev.inferno.sys.SyscallException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Applies OCI layers, in order, to one image root directory.
 *
 * <p>Containment: every path is cleaned lexically ({@code ..} that climbs above the root is
 * rejected, absolute names are taken relative to the root, as Docker does) and then resolved one
 * component at a time by this class, never by the kernel: a symlink met in a parent directory is
 * read and re-resolved <em>inside</em> the root (absolute targets restart at the root, {@code ..}
 * stops at it), the final component is never followed (an existing entry is removed and recreated),
 * and hard links may only point at existing non-directories inside the root. So no layer can write,
 * link or delete anything outside the root.
 */
public final class LayerUnpacker {
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
  private static final String WH = ".wh.";
  private static final String OPAQUE = ".wh..wh..opq";
  private static final int MAX_SYMLINKS = 40;

  /** Guards against hostile layers that try to exhaust inodes or disk. */
  public record Limits(long maxEntries, long maxBytes) {
    public static final Limits DEFAULT = new Limits(2_000_000, 256L << 30);
  }

  /** What applying one layer did. */
  public record Stats(long entries, long bytes, long whiteouts, long skippedXattrs) {}

  private final Path root;
  private final Limits limits;
  private final boolean root_;

  public LayerUnpacker(Path root, Limits limits) {
    this.root = root.toAbsolutePath().normalize();
    this.limits = limits;
    this.root_ = isRoot();
  }

  /** Only root can set ownership and device nodes; others unpack what they can. */
  static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Applies one layer (gzip, zstd or plain tar; detected from the bytes). */
  public Stats apply(InputStream layer) throws IOException {
    return new Run().apply(Decompress.auto(layer));
  }

  /**
   * Applies one layer and checks that its uncompressed bytes hash to {@code diffId} (the image
   * config's {@code rootfs.diff_ids} entry). On a mismatch the root is left half-written: callers
   * unpack into a scratch root and discard it on error.
   */
  public Stats apply(InputStream layer, Digest diffId) throws IOException {
    MessageDigest md = diffId.newHasher();
    DigestInputStream in = new DigestInputStream(Decompress.auto(layer), md);
    Stats s = new Run().apply(in);
    in.transferTo(OutputStream.nullOutputStream()); // tar padding after the end marker
    if (!diffId.matches(md)) {
      throw new LayerRejectedException(
          "layer content does not match its diff_id " + diffId + " in the image config");
    }
    return s;
  }

  /** State of applying one layer. */
  private final class Run {
    /** Root-relative paths this layer created: whiteouts and opaque dirs only hide lower layers. */
    private final Set<String> created = new HashSet<>();

    private final Map<Path, FileTime> dirTimes = new LinkedHashMap<>();

    /**
     * Root-relative paths known to be real directories (no symlink in them), so deep trees do not
     * lstat every parent for every entry. Cleared whenever anything is deleted.
     */
    private final Set<String> dirs = new HashSet<>();

    private PaxXattrTap tap;

    private long entries;
    private long bytes;
    private long whiteouts;
    private long skippedXattrs;
    private final byte[] buf = new byte[1 << 16];

    Stats apply(InputStream in) throws IOException {
      tap = new PaxXattrTap(in);
      TarArchiveInputStream tar = new TarArchiveInputStream(tap, StandardCharsets.UTF_8.name());
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        if (++entries > limits.maxEntries()) {
          throw new LayerRejectedException(
              "layer has more than " + limits.maxEntries() + " entries; refusing it");
        }
        entry(e, tar);
      }
      // Directory mtimes last: writing children changed them.
      List<Map.Entry<Path, FileTime>> dirs = new ArrayList<>(dirTimes.entrySet());
      for (int i = dirs.size() - 1; i >= 0; i--) {
        setTime(dirs.get(i).getKey(), dirs.get(i).getValue());
      }
      return new Stats(entries, bytes, whiteouts, skippedXattrs);
    }

    private void entry(TarArchiveEntry e, TarArchiveInputStream tar) throws IOException {
      List<String> comps = clean(e.getName());
      if (comps.isEmpty()) {
        if (e.isDirectory()) {
          meta(root, e, false);
          dirTimes.put(root, e.getLastModifiedTime());
        }
        return;
      }
      String base = comps.getLast();
      List<String> parentComps = comps.subList(0, comps.size() - 1);
      if (base.startsWith(WH)) {
        whiteout(parentComps, base);
        return;
      }
      Path parent = resolveDir(parentComps, true);
      Path target = parent.resolve(base);
      String key = key(target);
      BasicFileAttributes existing = lstat(target);

      if (e.isDirectory()) {
        if (existing != null && !existing.isDirectory()) {
          delete(target);
          existing = null;
        }
        if (existing == null) {
          Files.createDirectory(target);
        }
        created.add(key);
        meta(target, e, false);
        dirTimes.put(target, e.getLastModifiedTime());
        return;
      }
      if (e.isLink()) {
        hardLink(e, target, existing);
        created.add(key);
        return;
      }
      if (existing != null) {
        delete(target);
      }
      created.add(key);
      if (e.isSymbolicLink()) {
        String to = e.getLinkName();
        if (to == null || to.isEmpty() || to.indexOf('\0') >= 0) {
          throw new LayerRejectedException(
              "symlink " + e.getName() + " has an empty or invalid target");
        }
        FileNodes.symlink(to, target);
        meta(target, e, true);
      } else if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
        int type =
            e.isFIFO()
                ? FileNodes.S_IFIFO
                : e.isCharacterDevice() ? FileNodes.S_IFCHR : FileNodes.S_IFBLK;
        try {
          FileNodes.mknod(target, type | (e.getMode() & 07777), e.getDevMajor(), e.getDevMinor());
        } catch (SyscallException ex) {
          if (ex.errno() == Errno.EPERM) {
            throw new IOException(ex.getMessage() + "; unpacking device nodes needs root", ex);
          }
          throw ex;
        }
        meta(target, e, false);
      } else if (e.isFile()) {
        try (OutputStream out =
            Files.newOutputStream(
                target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, NOFOLLOW)) {
          int n;
          while ((n = tar.read(buf)) > 0) {
            bytes += n;
            if (bytes > limits.maxBytes()) {
              throw new LayerRejectedException(
                  "layer unpacks to more than " + limits.maxBytes() + " bytes; refusing it");
            }
            out.write(buf, 0, n);
          }
        }
        meta(target, e, false);
      }
      // other types (GNU sparse headers, sockets) carry nothing we can represent: skip
    }

    private void hardLink(TarArchiveEntry e, Path target, BasicFileAttributes existing)
        throws IOException {
      List<String> to = clean(e.getLinkName());
      if (to.isEmpty()) {
        throw new LayerRejectedException("hard link " + e.getName() + " points at the root");
      }
      Path toParent = resolveDir(to.subList(0, to.size() - 1), false);
      Path source = toParent == null ? null : toParent.resolve(to.getLast());
      BasicFileAttributes sa = source == null ? null : lstat(source);
      if (sa == null) {
        throw new LayerRejectedException(
            "hard link "
                + e.getName()
                + " -> "
                + e.getLinkName()
                + ": target does not exist in the image");
      }
      if (sa.isDirectory()) {
        throw new LayerRejectedException(
            "hard link " + e.getName() + " -> " + e.getLinkName() + " points at a directory");
      }
      if (existing != null) {
        if (source.equals(target)) {
          return;
        }
        delete(target);
      }
      Files.createLink(target, source);
    }

    private void whiteout(List<String> parentComps, String base) throws IOException {
      whiteouts++;
      boolean opaque = base.equals(OPAQUE);
      if (!opaque && base.startsWith(WH + WH)) {
        return; // other AUFS metadata (.wh..wh.plnk …): not content
      }
      String name = base.substring(WH.length());
      if (!opaque && (name.isEmpty() || name.equals(".") || name.equals(".."))) {
        throw new LayerRejectedException("invalid whiteout " + base);
      }
      Path parent = resolveDir(parentComps, false);
      if (parent == null) {
        return; // nothing below to hide
      }
      if (opaque) {
        created.add(key(parent));
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent)) {
          for (Path child : ds) {
            if (!created.contains(key(child))) {
              delete(child);
            }
          }
        }
        return;
      }
      Path victim = parent.resolve(name);
      if (created.contains(key(victim))) {
        return; // a whiteout hides lower layers only
      }
      delete(victim); // a whiteout for what is not there is fine
    }

    private void meta(Path p, TarArchiveEntry e, boolean symlink) throws IOException {
      if (root_) {
        Ownership.lchown(p, (int) e.getLongUserId(), (int) e.getLongGroupId());
      }
      if (!symlink) {
        // after chown, which clears setuid/setgid
        FileNodes.chmod(p, e.getMode() & 07777);
      }
      for (Map.Entry<String, String> x : e.getExtraPaxHeaders().entrySet()) {
        String k = x.getKey();
        if (!k.startsWith("SCHILY.xattr.")) {
          continue;
        }
        String name = k.substring("SCHILY.xattr.".length());
        String v = x.getValue();
        byte[] raw = tap.current().get(name);
        byte[] value;
        if (raw != null && new String(raw, StandardCharsets.UTF_8).equals(v)) {
          value = raw; // exact bytes, binary values included
        } else if (v.indexOf('\uFFFD') < 0) {
          value = v.getBytes(StandardCharsets.UTF_8);
        } else {
          skippedXattrs++; // a binary value we could not recover: better absent than corrupt
          continue;
        }
        if (!root_ && !name.startsWith("user.")) {
          skippedXattrs++;
          continue;
        }
        try {
          FileNodes.lsetxattr(p, name, value);
        } catch (SyscallException ex) {
          skippedXattrs++; // e.g. user.* on a symlink, or a filesystem without xattrs
        }
      }
      if (!e.isDirectory()) {
        setTime(p, e.getLastModifiedTime());
      }
    }

    private static void setTime(Path p, FileTime t) {
      if (t == null) {
        return;
      }
      try {
        java.time.Instant i = t.toInstant();
        FileNodes.lutimes(p, i.getEpochSecond(), i.getNano());
      } catch (IOException ignored) {
        // a time we cannot set is cosmetic
      }
    }

    private void delete(Path p) throws IOException {
      dirs.clear();
      FileTrees.delete(p);
    }

    /**
     * Resolves parent components inside the root, following symlinks the way a chroot would, and
     * (when {@code create}) making missing directories. Returns null when a component is missing
     * and {@code create} is false.
     */
    private Path resolveDir(List<String> comps, boolean create) throws IOException {
      if (comps.isEmpty()) {
        return root;
      }
      String requested = String.join("/", comps);
      if (dirs.contains(requested)) {
        return root.resolve(requested);
      }
      Deque<String> todo = new ArrayDeque<>(comps);
      List<String> cur = new ArrayList<>();
      int links = 0;
      while (!todo.isEmpty()) {
        String c = todo.pollFirst();
        if (c.isEmpty() || c.equals(".")) {
          continue;
        }
        if (c.equals("..")) {
          if (!cur.isEmpty()) {
            cur.removeLast();
          }
          continue;
        }
        Path p = join(cur).resolve(c);
        BasicFileAttributes a = lstat(p);
        if (a == null) {
          if (!create) {
            return null;
          }
          Files.createDirectory(p);
          if (root_) {
            Ownership.lchown(p, 0, 0);
          }
          FileNodes.chmod(p, 0755);
          created.add(key(p));
          cur.add(c);
          dirs.add(String.join("/", cur));
        } else if (a.isSymbolicLink()) {
          if (++links > MAX_SYMLINKS) {
            throw new LayerRejectedException("too many levels of symlinks under " + key(p));
          }
          String target = Files.readSymbolicLink(p).toString();
          if (target.startsWith("/")) {
            cur.clear();
          }
          String[] parts = target.split("/", -1);
          for (int i = parts.length - 1; i >= 0; i--) {
            todo.addFirst(parts[i]);
          }
        } else if (a.isDirectory()) {
          cur.add(c);
          dirs.add(String.join("/", cur));
        } else {
          throw new LayerRejectedException(
              "layer writes below " + key(p) + ", which is not a directory");
        }
      }
      return join(cur);
    }

    private Path join(List<String> comps) {
      Path p = root;
      for (String c : comps) {
        p = p.resolve(c);
      }
      return p;
    }

    private String key(Path p) {
      return root.relativize(p).toString();
    }
  }

  /**
   * Cleans a tar entry name into components; absolute names become relative to the root and a
   * {@code ..} that would climb above the root rejects the layer (Docker's "breakout" error).
   */
  public static List<String> cleanPath(String name) {
    return clean(name);
  }

  static List<String> clean(String name) {
    if (name.indexOf('\0') >= 0) {
      throw new LayerRejectedException("entry name contains NUL: " + name);
    }
    List<String> out = new ArrayList<>();
    for (String c : name.split("/", -1)) {
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        if (out.isEmpty()) {
          throw new LayerRejectedException(
              "entry " + name + " climbs out of the image root with '..'; refusing the layer");
        }
        out.removeLast();
        continue;
      }
      out.add(c);
    }
    return out;
  }

  private static BasicFileAttributes lstat(Path p) throws IOException {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW);
    } catch (NoSuchFileException e) {
      return null;
    }
  }
}
