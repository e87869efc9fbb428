package dev.inferno.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** lchown(2) with numeric ids: the jail's files belong to a uid that has no passwd entry. */
public final class Ownership {
  private Ownership() {}

  /** Changes owner and group of path itself (a symlink is not followed); -1 keeps that id. */
  public static void lchown(Path path, int uid, int gid) throws SyscallException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.callState(arena);
      MemorySegment cpath = arena.allocateFrom(path.toString());
      int rc = (int) Libc.LCHOWN.invokeExact(state, cpath, uid, gid);
      if (rc != 0) {
        throw new SyscallException("lchown", path + ", " + uid + ", " + gid, Libc.errno(state));
      }
    } catch (SyscallException e) {
      throw e;
    } catch (Throwable t) {
      throw Libc.rethrow(t);
    }
  }
}
