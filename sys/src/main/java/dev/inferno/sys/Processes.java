package dev.inferno.sys;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
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
    Optional<String> stat = procFile(pid, "stat");
    return stat.isEmpty()
        ? OptionalLong.empty()
        : OptionalLong.of(Long.parseLong(statField(stat.get(), 22)));
  }

  /**
   * A file under /proc/pid ("stat", "status" …), or empty when the process is gone. A process
   * reaped between the open and the read fails the read with ESRCH, which Java reports as a bare
   * IOException; its /proc directory is gone by then, which is what tells that apart from a real
   * read error.
   */
  public static Optional<String> procFile(long pid, String name) throws IOException {
    return readProcFile(Path.of("/proc", Long.toString(pid)), name);
  }

  static Optional<String> readProcFile(Path dir, String name) throws IOException {
    try {
      return Optional.of(Files.readString(dir.resolve(name), StandardCharsets.UTF_8));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      if (Files.notExists(dir)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /**
   * Field {@code n} (1-based, as proc(5) numbers them, n ≥ 3) of a /proc/pid/stat line. The comm
   * field (2) may hold spaces and parentheses, so the count starts after its last ')'.
   */
  public static String statField(String stat, int n) {
    if (n < 3) {
      throw new IllegalArgumentException("stat field " + n + " is not after comm");
    }
    int close = stat.lastIndexOf(')');
    if (close < 0 || close + 2 > stat.length()) {
      throw new IllegalArgumentException("not a /proc/pid/stat line: " + stat);
    }
    String[] rest = stat.substring(close + 2).trim().split(" ");
    if (n - 3 >= rest.length) {
      throw new IllegalArgumentException("no field " + n + " in /proc/pid/stat line: " + stat);
    }
    return rest[n - 3];
  }

  /** The state letter of a process (R, S, Z …), or empty when it does not exist. */
  public static Optional<Character> state(long pid) throws IOException {
    return procFile(pid, "stat").map(stat -> statField(stat, 3).charAt(0));
  }

  /** True when pid is alive (not a zombie) and still has the given start time. */
  public static boolean isSameProcessAlive(long pid, long startTime) throws IOException {
    Optional<String> stat = procFile(pid, "stat");
    if (stat.isEmpty() || Long.parseLong(statField(stat.get(), 22)) != startTime) {
      return false;
    }
    char state = statField(stat.get(), 3).charAt(0);
    return state != 'Z' && state != 'X';
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
