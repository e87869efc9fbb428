package dev.inferno.image.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Writes reproducible layer tars (fixed mtimes, owners) with every entry type a layer can hold. */
public final class TarBuilder {
  public static final Instant MTIME = Instant.parse("2024-01-02T03:04:05Z");
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final TarArchiveOutputStream tar;

  public TarBuilder() {
    tar = new TarArchiveOutputStream(bytes, StandardCharsets.UTF_8.name());
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
  }

  private TarArchiveEntry entry(String name, byte type) {
    TarArchiveEntry e = new TarArchiveEntry(name, type);
    e.setLastModifiedTime(FileTime.from(MTIME));
    e.setUserId(0);
    e.setGroupId(0);
    return e;
  }

  private TarBuilder put(TarArchiveEntry e, byte[] content) {
    try {
      e.setSize(content.length);
      tar.putArchiveEntry(e);
      tar.write(content);
      tar.closeArchiveEntry();
      return this;
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  public TarBuilder dir(String name, int mode) {
    TarArchiveEntry e = entry(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR);
    e.setMode(mode);
    return put(e, new byte[0]);
  }

  public TarBuilder file(String name, int mode, String content) {
    return file(name, mode, content.getBytes(StandardCharsets.UTF_8), 0, 0);
  }

  public TarBuilder file(String name, int mode, byte[] content, int uid, int gid) {
    TarArchiveEntry e = entry(name, TarConstants.LF_NORMAL);
    e.setMode(mode);
    e.setUserId(uid);
    e.setGroupId(gid);
    return put(e, content);
  }

  public TarBuilder fileWithXattr(String name, String content, String xattr, String value) {
    TarArchiveEntry e = entry(name, TarConstants.LF_NORMAL);
    e.setMode(0644);
    e.addPaxHeader("SCHILY.xattr." + xattr, value);
    return put(e, content.getBytes(StandardCharsets.UTF_8));
  }

  public TarBuilder hostFile(String name, int mode, Path source) {
    try {
      return file(name, mode, Files.readAllBytes(source), 0, 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public TarBuilder symlink(String name, String target) {
    TarArchiveEntry e = entry(name, TarConstants.LF_SYMLINK);
    e.setLinkName(target);
    e.setMode(0777);
    return put(e, new byte[0]);
  }

  public TarBuilder hardlink(String name, String target) {
    TarArchiveEntry e = entry(name, TarConstants.LF_LINK);
    e.setLinkName(target);
    e.setMode(0644);
    return put(e, new byte[0]);
  }

  public TarBuilder charDevice(String name, int mode, int major, int minor) {
    TarArchiveEntry e = entry(name, TarConstants.LF_CHR);
    e.setMode(mode);
    e.setDevMajor(major);
    e.setDevMinor(minor);
    return put(e, new byte[0]);
  }

  public TarBuilder fifo(String name, int mode) {
    TarArchiveEntry e = entry(name, TarConstants.LF_FIFO);
    e.setMode(mode);
    return put(e, new byte[0]);
  }

  /** A whiteout for {@code path}: {@code dir/.wh.name}. */
  public TarBuilder whiteout(String path) {
    int slash = path.lastIndexOf('/');
    String name =
        slash < 0
            ? ".wh." + path
            : path.substring(0, slash + 1) + ".wh." + path.substring(slash + 1);
    return file(name, 0, new byte[0], 0, 0);
  }

  public TarBuilder opaque(String dir) {
    return file(dir + "/.wh..wh..opq", 0, new byte[0], 0, 0);
  }

  public byte[] build() {
    try {
      tar.finish();
      tar.close();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
