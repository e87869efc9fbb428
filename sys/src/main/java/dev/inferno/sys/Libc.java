package dev.inferno.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Downcall handles into the C library. Every call that can fail captures {@code errno} right after
 * the call (the JVM may clobber it otherwise), so callers get the real reason.
 */
final class Libc {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
  private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

  static final MethodHandle KILL =
      downcall(
          "kill",
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
  static final MethodHandle GETUID = plain("getuid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
  static final MethodHandle GETEUID = plain("geteuid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
  static final MethodHandle GETGID = plain("getgid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
  static final MethodHandle GETPID = plain("getpid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
  static final MethodHandle LCHOWN =
      downcall(
          "lchown",
          FunctionDescriptor.of(
              ValueLayout.JAVA_INT,
              ValueLayout.ADDRESS,
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_INT));
  static final MethodHandle MKNOD =
      downcall(
          "mknod",
          FunctionDescriptor.of(
              ValueLayout.JAVA_INT,
              ValueLayout.ADDRESS,
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_LONG));
  static final MethodHandle CHMOD =
      downcall(
          "chmod",
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
  static final MethodHandle SYMLINK =
      downcall(
          "symlink",
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
  static final MethodHandle LSETXATTR =
      downcall(
          "lsetxattr",
          FunctionDescriptor.of(
              ValueLayout.JAVA_INT,
              ValueLayout.ADDRESS,
              ValueLayout.ADDRESS,
              ValueLayout.ADDRESS,
              ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_INT));
  static final MethodHandle UTIMENSAT =
      downcall(
          "utimensat",
          FunctionDescriptor.of(
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_INT,
              ValueLayout.ADDRESS,
              ValueLayout.ADDRESS,
              ValueLayout.JAVA_INT));
  static final MethodHandle PRCTL =
      downcall(
          "prctl",
          FunctionDescriptor.of(
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_LONG));
  static final MethodHandle OPEN =
      downcall(
          "open",
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
          Linker.Option.firstVariadicArg(2));
  static final MethodHandle CLOSE =
      downcall("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
  static final MethodHandle IOCTL =
      downcall(
          "ioctl",
          FunctionDescriptor.of(
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_INT,
              ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_LONG),
          Linker.Option.firstVariadicArg(2));
  static final MethodHandle STAT =
      downcall(
          "stat",
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
  static final MethodHandle STRERROR =
      plain("strerror", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

  private Libc() {}

  private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... extra) {
    Linker.Option[] options = new Linker.Option[extra.length + 1];
    options[0] = CAPTURE;
    System.arraycopy(extra, 0, options, 1, extra.length);
    return LINKER.downcallHandle(symbol(name), fd, options);
  }

  private static MethodHandle plain(String name, FunctionDescriptor fd) {
    return LINKER.downcallHandle(symbol(name), fd);
  }

  private static MemorySegment symbol(String name) {
    return LINKER
        .defaultLookup()
        .find(name)
        .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
  }

  /** A fresh call-state segment for one call, to be passed as the first argument. */
  static MemorySegment callState(Arena arena) {
    return arena.allocate(CALL_STATE);
  }

  static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }

  static String strerror(int errno) {
    try {
      MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
      return s.reinterpret(1024).getString(0);
    } catch (Throwable t) {
      return "errno " + errno;
    }
  }

  /** Rethrows what a downcall threw; downcalls throw only on linkage bugs. */
  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }
}
