package dev.inferno.sys;

/** The caller's real and effective ids. */
public final class Users {
  private Users() {}

  public static int getuid() {
    try {
      return (int) Libc.GETUID.invokeExact();
    } catch (Throwable t) {
      throw Libc.rethrow(t);
    }
  }

  public static int geteuid() {
    try {
      return (int) Libc.GETEUID.invokeExact();
    } catch (Throwable t) {
      throw Libc.rethrow(t);
    }
  }

  public static int getgid() {
    try {
      return (int) Libc.GETGID.invokeExact();
    } catch (Throwable t) {
      throw Libc.rethrow(t);
    }
  }

  /** True when running as root (euid 0), i.e. allowed to chown and to run the jailer. */
  public static boolean isRoot() {
    return geteuid() == 0;
  }
}
