package dev.inferno.sys;

/** The errno values callers branch on. */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EACCES = 13;
  public static final int ENODEV = 19;
  public static final int ENXIO = 6;

  private Errno() {}
}
