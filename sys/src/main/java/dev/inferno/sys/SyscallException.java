package dev.inferno.sys;

import java.io.IOException;

/** A system call failed; carries errno and says which call on what. */
public final class SyscallException extends IOException {
  private final int errno;

  public SyscallException(String call, String what, int errno) {
    super(call + "(" + what + ") failed: " + Libc.strerror(errno) + " (errno " + errno + ")");
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }
}
