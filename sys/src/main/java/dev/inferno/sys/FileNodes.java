package dev.inferno.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The file calls NIO lacks or does imprecisely, for unpacking image layers: mknod (devices, fifos),
 * chmod with the setuid/setgid/sticky bits, symlink with the target kept byte for byte, lsetxattr
 * in any namespace, and times set without following a link or opening the file. (lchown is {@link
 * Ownership#lchown}.) And what a file really takes on disk, which NIO cannot tell.
 */
public final class FileNodes {
  public static final int S_IFIFO = 0010000;
  public static final int S_IFCHR = 0020000;
  public static final int S_IFBLK = 0060000;

  private static final int AT_FDCWD = -100;
  private static final int AT_SYMLINK_NOFOLLOW = 0x100;

  /** x86_64's {@code struct stat}: its size, and where {@code st_blocks} (512-byte units) is. */
  private static final long STAT_SIZE = 144;

  private static final long ST_BLOCKS = 64;

  private FileNodes() {}

  /**
   * The bytes a file's allocated blocks take on its filesystem ({@code st_blocks} × 512, du's
   * figure): for a sparse disk image, what was written, not its apparent size. Empty when there is
   * no such file.
   */
  public static OptionalLong allocatedBytes(Path p) throws SyscallException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment cs = Libc.callState(a);
      MemorySegment st = a.allocate(STAT_SIZE, 8);
      if ((int) Libc.STAT.invokeExact(cs, a.allocateFrom(p.toString()), st) != 0) {
        int errno = Libc.errno(cs);
        if (errno == Errno.ENOENT) {
          return OptionalLong.empty();
        }
        throw new SyscallException("stat", p.toString(), errno);
      }
      return OptionalLong.of(st.get(ValueLayout.JAVA_LONG, ST_BLOCKS) * 512);
    } catch (SyscallException e) {
      throw e;
    } catch (Throwable t) {
      throw Libc.rethrow(t);
    }
  }

  /** mknod(2): a device node or fifo; {@code mode} is the type bits | permission bits. */
  public static void mknod(Path p, int mode, int major, int minor) throws SyscallException {
    // glibc's makedev
    long dev =
        ((long) (major & 0xfff) << 8)
            | (minor & 0xffL)
            | ((long) (minor & ~0xff) << 12)
            | ((long) (major & ~0xfff) << 32);
    call(
        "mknod",
        p + ", 0" + Integer.toOctalString(mode),
        (a, cs) -> (int) Libc.MKNOD.invokeExact(cs, a.allocateFrom(p.toString()), mode, dev));
  }

  /** chmod(2), all 12 mode bits; it follows a symlink, so only call it on what is not one. */
  public static void chmod(Path p, int mode) throws SyscallException {
    call(
        "chmod",
        p + ", 0" + Integer.toOctalString(mode),
        (a, cs) -> (int) Libc.CHMOD.invokeExact(cs, a.allocateFrom(p.toString()), mode));
  }

  /** symlink(2): {@code link} pointing at {@code target} exactly as given (no normalising). */
  public static void symlink(String target, Path link) throws SyscallException {
    call(
        "symlink",
        target + ", " + link,
        (a, cs) ->
            (int)
                Libc.SYMLINK.invokeExact(
                    cs, a.allocateFrom(target), a.allocateFrom(link.toString())));
  }

  /** lsetxattr(2): sets an extended attribute on the path itself (a symlink is not followed). */
  public static void lsetxattr(Path p, String name, byte[] value) throws SyscallException {
    call(
        "lsetxattr",
        p + ", " + name,
        (a, cs) -> {
          MemorySegment v = a.allocate(Math.max(1, value.length));
          MemorySegment.copy(value, 0, v, ValueLayout.JAVA_BYTE, 0, value.length);
          return (int)
              Libc.LSETXATTR.invokeExact(
                  cs,
                  a.allocateFrom(p.toString()),
                  a.allocateFrom(name),
                  v,
                  (long) value.length,
                  0);
        });
  }

  /**
   * Sets atime and mtime without following a symlink and without opening the file (NIO's setTimes
   * opens it, which blocks on a FIFO).
   */
  public static void lutimes(Path p, long epochSecond, int nanos) throws SyscallException {
    call(
        "utimensat",
        p.toString(),
        (a, cs) -> {
          MemorySegment ts = a.allocate(ValueLayout.JAVA_LONG, 4);
          ts.setAtIndex(ValueLayout.JAVA_LONG, 0, epochSecond);
          ts.setAtIndex(ValueLayout.JAVA_LONG, 1, nanos);
          ts.setAtIndex(ValueLayout.JAVA_LONG, 2, epochSecond);
          ts.setAtIndex(ValueLayout.JAVA_LONG, 3, nanos);
          return (int)
              Libc.UTIMENSAT.invokeExact(
                  cs, AT_FDCWD, a.allocateFrom(p.toString()), ts, AT_SYMLINK_NOFOLLOW);
        });
  }

  /** One downcall taking the call-state segment first; returns the C return value. */
  @FunctionalInterface
  private interface Downcall {
    int invoke(Arena arena, MemorySegment callState) throws Throwable;
  }

  /** Runs a downcall that returns 0 or -1 with errno, and throws with errno on -1. */
  private static void call(String call, String what, Downcall d) throws SyscallException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment cs = Libc.callState(a);
      if (d.invoke(a, cs) != 0) {
        throw new SyscallException(call, what, Libc.errno(cs));
      }
    } catch (SyscallException e) {
      throw e;
    } catch (Throwable t) {
      throw Libc.rethrow(t);
    }
  }
}
