package dev.inferno.cli;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The host side of {@code cp}: a POSIX tar writer and a careful reader (ustar, pax {@code path} and
 * {@code linkpath} records for long names — the guest's format, PROTOCOL.md §10). Hand-written,
 * ~250 lines: commons-compress would put four jars on every verb's classpath, which the CLI's
 * startup pays for. The reader unpacks as the invoking user and refuses any entry that is absolute,
 * has a {@code ..} component or would pass through a symlink, so a hostile guest cannot write
 * outside the destination.
 */
final class Tar {
  private static final int BLOCK = 512;
  private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

  private Tar() {}

  // ---------------------------------------------------------------- writing

  /**
   * Writes a tar of src (not following symlinks) whose root entry is named root; uid/gid 0, as
   * docker cp without -a does.
   */
  static void write(Path src, String root, OutputStream out) throws IOException {
    List<Path> paths;
    if (Files.isDirectory(src, NOFOLLOW)) {
      try (Stream<Path> walk = Files.walk(src)) {
        paths = walk.toList(); // walk does not follow links by default
      }
    } else {
      paths = List.of(src);
    }
    for (Path p : paths) {
      String rel = src.relativize(p).toString().replace('\\', '/');
      String name = rel.isEmpty() ? root : root + "/" + rel;
      entry(p, name, out);
    }
    out.write(new byte[BLOCK * 2]);
    out.flush();
  }

  private static void entry(Path p, String name, OutputStream out) throws IOException {
    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW);
    int mode = ((Integer) Files.getAttribute(p, "unix:mode", NOFOLLOW)) & 07777;
    char type;
    long size = 0;
    String link = "";
    if (a.isSymbolicLink()) {
      type = '2';
      link = Files.readSymbolicLink(p).toString();
    } else if (a.isDirectory()) {
      type = '5';
      name = name + "/";
    } else if (a.isRegularFile()) {
      type = '0';
      size = a.size();
    } else {
      System.err.println("inferno: skipping " + p + ": not a file, directory or symlink");
      return;
    }
    Map<String, String> pax = new HashMap<>();
    if (utf8(name).length > 100 || !ascii(name)) {
      pax.put("path", name);
    }
    if (utf8(link).length > 100 || !ascii(link)) {
      pax.put("linkpath", link);
    }
    long mtime = a.lastModifiedTime().toMillis() / 1000;
    if (!pax.isEmpty()) {
      StringBuilder records = new StringBuilder();
      for (var e : pax.entrySet()) {
        records.append(paxRecord(e.getKey(), e.getValue()));
      }
      byte[] body = utf8(records.toString());
      out.write(header("PaxHeader/" + tail(name), 0644, body.length, mtime, 'x', ""));
      out.write(body);
      pad(out, body.length);
    }
    out.write(header(name, mode, size, mtime, type, link));
    if (type == '0') {
      long copied;
      try (InputStream in = Files.newInputStream(p, NOFOLLOW)) {
        copied = in.transferTo(new Bounded(out, size));
      }
      if (copied != size) {
        throw new IOException(p + " changed size while it was copied");
      }
      pad(out, size);
    }
  }

  /** A stream that refuses to write more than its limit (a file that grew while copied). */
  private static final class Bounded extends OutputStream {
    private final OutputStream out;
    private long left;

    Bounded(OutputStream out, long left) {
      this.out = out;
      this.left = left;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (len > left) {
        throw new IOException("a file grew while it was copied");
      }
      out.write(b, off, len);
      left -= len;
    }
  }

  private static String tail(String name) {
    String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
    String t = n.substring(n.lastIndexOf('/') + 1);
    return t.length() > 80 ? t.substring(0, 80) : t;
  }

  /** "LEN key=value\n", where LEN counts itself. */
  private static String paxRecord(String key, String value) {
    int base = utf8(key).length + utf8(value).length + 3;
    int len = base + String.valueOf(base).length();
    if (String.valueOf(len).length() != String.valueOf(base).length()) {
      len++;
    }
    return len + " " + key + "=" + value + "\n";
  }

  private static byte[] header(
      String name, int mode, long size, long mtime, char type, String link) {
    byte[] h = new byte[BLOCK];
    put(h, 0, 100, utf8(name));
    octal(h, 100, 8, mode);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, size);
    octal(h, 136, 12, Math.max(0, mtime));
    h[156] = (byte) type;
    put(h, 157, 100, utf8(link));
    put(h, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
    put(h, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
    for (int i = 148; i < 156; i++) {
      h[i] = ' ';
    }
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    octal(h, 148, 7, sum);
    return h;
  }

  private static void put(byte[] h, int off, int len, byte[] v) {
    System.arraycopy(v, 0, h, off, Math.min(len, v.length));
  }

  /** An octal number, zero-padded, NUL-terminated, in a field of len bytes. */
  private static void octal(byte[] h, int off, int len, long v) {
    String s = Long.toOctalString(v);
    if (s.length() > len - 1) {
      throw new IllegalArgumentException("value too large for a tar header: " + v);
    }
    s = "0".repeat(len - 1 - s.length()) + s;
    put(h, off, len - 1, s.getBytes(StandardCharsets.US_ASCII));
  }

  private static void pad(OutputStream out, long size) throws IOException {
    int rest = (int) (size % BLOCK);
    if (rest != 0) {
      out.write(new byte[BLOCK - rest]);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static boolean ascii(String s) {
    return s.chars().allMatch(c -> c < 128);
  }

  // ---------------------------------------------------------------- reading

  /**
   * Unpacks a tar into dir (which exists); rename, if not null, replaces the first component of
   * every entry's name (docker cp's copy to a new name). Refuses hostile entries.
   */
  static void extract(InputStream in, Path dir, String rename) throws IOException {
    Path root = dir.toAbsolutePath().normalize();
    Map<String, String> pax = new HashMap<>();
    String longName = null;
    String longLink = null;
    List<Path> dirs = new ArrayList<>();
    List<Integer> dirModes = new ArrayList<>();
    List<FileTime> dirTimes = new ArrayList<>();
    byte[] h = new byte[BLOCK];
    while (true) {
      if (in.readNBytes(h, 0, BLOCK) < BLOCK) {
        throw new EOFException("the archive ended inside a header");
      }
      if (zero(h)) {
        // end of archive (the second zero block is not needed); directory modes and times last:
        // unpacking into them changed their times, and a read-only one had to stay writable
        for (int i = dirs.size() - 1; i >= 0; i--) {
          chmod(dirs.get(i), dirModes.get(i));
          Files.setLastModifiedTime(dirs.get(i), dirTimes.get(i));
        }
        return;
      }
      if (!checksumOk(h)) {
        throw new IOException("not a tar archive (bad header checksum)");
      }
      char type = (char) h[156];
      long size = number(h, 124, 12);
      if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
        byte[] body = in.readNBytes((int) size);
        if (body.length < size) {
          throw new EOFException("the archive ended inside an extended header");
        }
        skip(in, pad(size));
        if (type == 'x') {
          pax.putAll(paxRecords(body));
        } else if (type == 'L') {
          longName = cstring(body, 0, body.length);
        } else if (type == 'K') {
          longLink = cstring(body, 0, body.length);
        }
        continue;
      }
      String name = pax.getOrDefault("path", longName);
      if (name == null) {
        name = cstring(h, 0, 100);
        String prefix = cstring(h, 345, 155);
        if (!prefix.isEmpty() && "ustar".equals(cstring(h, 257, 5))) {
          name = prefix + "/" + name;
        }
      }
      String link = pax.getOrDefault("linkpath", longLink);
      if (link == null) {
        link = cstring(h, 157, 100);
      }
      pax.clear();
      longName = null;
      longLink = null;
      int mode = (int) number(h, 100, 8) & 07777;
      long mtime = number(h, 136, 12);
      Path target = resolve(root, name, rename);
      switch (type) {
        case '0', '\0', '7' -> {
          replaceNonDir(target);
          try (OutputStream out =
              Files.newOutputStream(
                  target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long left = size;
            byte[] buf = new byte[65536];
            while (left > 0) {
              int n = in.read(buf, 0, (int) Math.min(buf.length, left));
              if (n < 0) {
                throw new EOFException("the archive ended inside " + name);
              }
              out.write(buf, 0, n);
              left -= n;
            }
          }
          skip(in, pad(size));
          chmod(target, mode);
          Files.setLastModifiedTime(target, FileTime.fromMillis(mtime * 1000));
        }
        case '5' -> {
          if (Files.exists(target, NOFOLLOW) && !Files.isDirectory(target, NOFOLLOW)) {
            Files.delete(target); // a file or symlink in the way: never a dir through a link
          }
          if (!Files.isDirectory(target, NOFOLLOW)) {
            Files.createDirectory(target);
          }
          chmod(target, mode | 0700); // we must still write into it; exact at the end
          dirs.add(target);
          dirModes.add(mode);
          dirTimes.add(FileTime.fromMillis(mtime * 1000));
          skip(in, size + pad(size));
        }
        case '2' -> {
          replaceNonDir(target);
          Files.createSymbolicLink(target, Path.of(link));
          skip(in, size + pad(size));
        }
        case '1' -> {
          // a hard link to an entry already unpacked: the same checks as any entry
          Path existing = resolve(root, link, rename);
          replaceNonDir(target);
          Files.createLink(target, existing);
          skip(in, size + pad(size));
        }
        default -> {
          System.err.println("inferno: skipping " + name + ": not a file, directory or link");
          skip(in, size + pad(size));
        }
      }
    }
  }

  /**
   * The entry's path under root: relative, no {@code ..}, and no existing component on the way that
   * is a symlink (which could point outside root).
   */
  static Path resolve(Path root, String name, String rename) throws IOException {
    String n = name;
    while (n.startsWith("./")) {
      n = n.substring(2);
    }
    if (n.startsWith("/") || n.isEmpty()) {
      throw new IOException("refusing archive entry '" + name + "': an absolute or empty path");
    }
    List<String> parts = new ArrayList<>();
    for (String c : n.split("/", -1)) {
      if (c.equals("..")) {
        throw new IOException("refusing archive entry '" + name + "': it has a .. component");
      }
      if (!c.isEmpty() && !c.equals(".")) {
        parts.add(c);
      }
    }
    if (parts.isEmpty()) {
      throw new IOException("refusing archive entry '" + name + "': an empty path");
    }
    if (rename != null) {
      parts.set(0, rename);
    }
    Path p = root;
    for (int i = 0; i < parts.size(); i++) {
      p = p.resolve(parts.get(i));
      if (i < parts.size() - 1 && Files.isSymbolicLink(p)) {
        throw new IOException(
            "refusing archive entry '" + name + "': it would pass through the symlink " + p);
      }
    }
    return p;
  }

  /** A file, link or symlink in the way is replaced (never written through); a dir is an error. */
  private static void replaceNonDir(Path target) throws IOException {
    if (Files.isDirectory(target, NOFOLLOW)) {
      throw new FileAlreadyExistsException(
          target + " is a directory: not replacing it with a file");
    }
    Files.deleteIfExists(target);
  }

  /** The full mode, setuid/setgid/sticky included where the file system lets us. */
  private static void chmod(Path p, int mode) throws IOException {
    Files.setAttribute(p, "unix:mode", mode, NOFOLLOW);
  }

  private static long pad(long size) {
    return (BLOCK - size % BLOCK) % BLOCK;
  }

  private static void skip(InputStream in, long n) throws IOException {
    in.skipNBytes(n);
  }

  private static boolean zero(byte[] h) {
    for (byte b : h) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  private static boolean checksumOk(byte[] h) {
    long want = number(h, 148, 8);
    long sum = 0;
    for (int i = 0; i < BLOCK; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
    }
    return sum == want;
  }

  /** An octal field, or GNU's base-256 (high bit set) for large values. */
  private static long number(byte[] h, int off, int len) {
    if ((h[off] & 0x80) != 0) {
      long v = h[off] & 0x7f;
      for (int i = off + 1; i < off + len; i++) {
        v = (v << 8) | (h[i] & 0xff);
      }
      return v;
    }
    long v = 0;
    for (int i = off; i < off + len; i++) {
      byte b = h[i];
      if (b >= '0' && b <= '7') {
        v = v * 8 + (b - '0');
      } else if (b == 0 || (b == ' ' && v > 0)) {
        break;
      }
    }
    return v;
  }

  private static String cstring(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.UTF_8);
  }

  private static Map<String, String> paxRecords(byte[] body) throws IOException {
    Map<String, String> m = new HashMap<>();
    int i = 0;
    while (i < body.length) {
      int sp = i;
      while (sp < body.length && body[sp] != ' ') {
        sp++;
      }
      int len;
      try {
        len = Integer.parseInt(new String(body, i, sp - i, StandardCharsets.US_ASCII));
      } catch (NumberFormatException e) {
        throw new IOException("bad pax record in the archive", e);
      }
      if (len <= 0 || i + len > body.length) {
        throw new IOException("bad pax record length in the archive");
      }
      String rec = new String(body, sp + 1, i + len - sp - 2, StandardCharsets.UTF_8);
      int eq = rec.indexOf('=');
      if (eq > 0) {
        m.put(rec.substring(0, eq), rec.substring(eq + 1));
      }
      i += len;
    }
    return m;
  }
}
