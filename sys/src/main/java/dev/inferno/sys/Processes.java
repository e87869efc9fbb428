package dev.inferno.sys;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalLong;

/** Signals, process identity (pid + start time) and child-subreaper. */
public final class Processes {
  public static final int SIGKILL = 9;
  public static final int SIGTERM = 15;
  public static final int SIGINT = 2;
  private static final int PR_SET_CHILD_SUBREAPER = 36;

  private Processes() {}

  /**
   * kill(2). Returns false when the process does not exist (ESRCH), so callers racing with an
   * exiting process need no special case; throws on anything else (EPERM …).
   */
  public static boolean kill(long pid, int signal) throws SyscallException {
    if (pid <= 0 || pid > Integer.MAX_VALUE) {
      // kill(0 or -n) signals process groups; never let a bad pid file do that.
      throw new IllegalArgumentException("refusing to signal pid " + pid);
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.callState(arena);
      int rc = (int) Libc.KILL.invokeExact(state, (int) pid, signal);
      if (rc == 0) {
        return true;
      }
      int errno = Libc.errno(state);
      if (errno == Errno.ESRCH) {
        return false;
      }
      throw new SyscallException("kill", pid + ", " + signal, errno);
    } catch (SyscallException e) {
      throw e;
    } catch (Throwable t) {
      throw Libc.rethrow(t);
    }
  }

  /** This process's pid as the kernel sees it. */
  public static int getpid() {
    try {
      return (int) Libc.GETPID.invokeExact();
    } catch (Throwable t) {
      throw Libc.rethrow(t);
    }
  }

  /**
   * The start time of a process in clock ticks since boot (field 22 of /proc/pid/stat), or empty
   * when there is no such process. pid + start time identifies a process across pid reuse.
   */
  public static OptionalLong startTime(long pid) throws IOException {
    String stat;
    try {
      stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(parseStartTime(stat));
  }

  /** Field 22 of a /proc/pid/stat line; the comm field (2) may hold spaces and parentheses. */
  static long parseStartTime(String stat) {
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      throw new IllegalArgumentException("not a /proc/pid/stat line: " + stat);
    }
    String[] rest = stat.substring(close + 2).trim().split(" ");
    // rest[0] is field 3 (state), so field 22 is rest[19]
    return Long.parseLong(rest[19]);
  }

  /** The state letter of a process (R, S, Z …), or empty when it does not exist. */
  public static java.util.Optional<Character> state(long pid) throws IOException {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      int close = stat.lastIndexOf(')');
      return java.util.Optional.of(stat.charAt(close + 2));
    } catch (NoSuchFileException e) {
      return java.util.Optional.empty();
    }
  }

  /** True when pid is alive (not a zombie) and still has the given start time. */
  public static boolean isSameProcessAlive(long pid, long startTime) throws IOException {
    OptionalLong now = startTime(pid);
    if (now.isEmpty() || now.getAsLong() != startTime) {
      return false;
    }
    return state(pid).map(s -> s != 'Z' && s != 'X').orElse(false);
  }

  /**
   * prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants get re-parented to this process instead of
   * init, so a supervisor can reap them.
   */
  public static void setChildSubreaper(boolean on) throws SyscallException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.callState(arena);
      int rc =
          (int) Libc.PRCTL.invokeExact(state, PR_SET_CHILD_SUBREAPER, on ? 1L : 0L, 0L, 0L, 0L);
      if (rc != 0) {
        throw new SyscallException("prctl", "PR_SET_CHILD_SUBREAPER", Libc.errno(state));
      }
    } catch (SyscallException e) {
      throw e;
    } catch (Throwable t) {
      throw Libc.rethrow(t);
    }
  }
}
