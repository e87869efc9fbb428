package dev.inferno.image.unpack;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The few libc calls NIO lacks or does imprecisely: mknod (devices, fifos), lchown, chmod with
 * setuid bits, symlink with the target kept byte for byte, lsetxattr (any namespace).
 */
final class Posix {
  static final int S_IFIFO = 0010000;
  static final int S_IFCHR = 0020000;
  static final int S_IFBLK = 0060000;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle MKNOD =
      handle("mknod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
  private static final MethodHandle LCHOWN =
      handle("lchown", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
  private static final MethodHandle CHMOD =
      handle("chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle SYMLINK =
      handle("symlink", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle LSETXATTR =
      handle(
          "lsetxattr",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));

  private static final MethodHandle UTIMENSAT =
      handle("utimensat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
  private static final int AT_FDCWD = -100;
  private static final int AT_SYMLINK_NOFOLLOW = 0x100;

  private Posix() {}

  /**
   * Sets atime and mtime without following a symlink and without opening the file (NIO's setTimes
   * opens it, which blocks on a FIFO).
   */
  static void lutimes(Path p, long epochSecond, int nanos) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment cs = a.allocate(CAPTURE);
      MemorySegment ts = a.allocate(JAVA_LONG, 4);
      ts.setAtIndex(JAVA_LONG, 0, epochSecond);
      ts.setAtIndex(JAVA_LONG, 1, nanos);
      ts.setAtIndex(JAVA_LONG, 2, epochSecond);
      ts.setAtIndex(JAVA_LONG, 3, nanos);
      int r =
          (int)
              UTIMENSAT.invokeExact(
                  cs, AT_FDCWD, a.allocateFrom(p.toString()), ts, AT_SYMLINK_NOFOLLOW);
      check(r, cs, "utimensat", p);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  private static MethodHandle handle(String name, FunctionDescriptor fd) {
    return LINKER.downcallHandle(
        LINKER.defaultLookup().find(name).orElseThrow(),
        fd,
        Linker.Option.captureCallState("errno"));
  }

  static void mknod(Path p, int mode, int major, int minor) throws IOException {
    long dev =
        ((long) (major & 0xfff) << 8)
            | (minor & 0xffL)
            | ((long) (minor & ~0xff) << 12)
            | ((long) (major & ~0xfff) << 32);
    try (Arena a = Arena.ofConfined()) {
      MemorySegment cs = a.allocate(CAPTURE);
      int r = (int) MKNOD.invokeExact(cs, a.allocateFrom(p.toString()), mode, dev);
      check(r, cs, "mknod", p);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  static void lchown(Path p, int uid, int gid) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment cs = a.allocate(CAPTURE);
      int r = (int) LCHOWN.invokeExact(cs, a.allocateFrom(p.toString()), uid, gid);
      check(r, cs, "lchown", p);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** chmod; only ever called on paths known not to be symlinks. */
  static void chmod(Path p, int mode) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment cs = a.allocate(CAPTURE);
      int r = (int) CHMOD.invokeExact(cs, a.allocateFrom(p.toString()), mode);
      check(r, cs, "chmod", p);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  static void symlink(String target, Path link) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment cs = a.allocate(CAPTURE);
      int r =
          (int) SYMLINK.invokeExact(cs, a.allocateFrom(target), a.allocateFrom(link.toString()));
      check(r, cs, "symlink", link);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  static void lsetxattr(Path p, String name, byte[] value) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment cs = a.allocate(CAPTURE);
      MemorySegment v = a.allocate(Math.max(1, value.length));
      MemorySegment.copy(value, 0, v, JAVA_BYTE_LAYOUT, 0, value.length);
      int r =
          (int)
              LSETXATTR.invokeExact(
                  cs,
                  a.allocateFrom(p.toString()),
                  a.allocateFrom(name),
                  v,
                  (long) value.length,
                  0);
      check(r, cs, "lsetxattr " + name, p);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  private static final java.lang.foreign.ValueLayout.OfByte JAVA_BYTE_LAYOUT =
      java.lang.foreign.ValueLayout.JAVA_BYTE;

  private static void check(int r, MemorySegment cs, String op, Path p) throws IOException {
    if (r == 0) {
      return;
    }
    int errno = (int) ERRNO.get(cs, 0L);
    throw new PosixException(op, p, errno);
  }

  /** A failed libc call, with errno. */
  static final class PosixException extends IOException {
    private static final long serialVersionUID = 1L;
    final int errno;

    PosixException(String op, Path p, int errno) {
      super(op + " " + p + ": " + name(errno));
      this.errno = errno;
    }

    private static String name(int errno) {
      return switch (errno) {
        case 1 -> "operation not permitted (EPERM; unpacking needs root)";
        case 2 -> "no such file (ENOENT)";
        case 13 -> "permission denied (EACCES)";
        case 17 -> "exists (EEXIST)";
        case 28 -> "no space left on device (ENOSPC)";
        case 95 -> "not supported (EOPNOTSUPP)";
        default -> "errno " + errno;
      };
    }
  }
}
