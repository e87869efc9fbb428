package dev.inferno.daemon.vm;

import java.util.Locale;

/** Linux (x86-64) signal names and numbers, for --stop-signal and kill -s. */
public final class SignalNames {
  private static final String[] NAMES = {
    null,
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS"
  };

  private SignalNames() {}

  /** The name of signal n (SIGRTMIN+k for real-time signals). */
  public static String name(int n) {
    if (n > 0 && n < NAMES.length) {
      return NAMES[n];
    }
    if (n >= 34 && n <= 64) {
      return "SIGRTMIN+" + (n - 34);
    }
    throw new IllegalArgumentException("no such signal: " + n);
  }

  /**
   * Parses "SIGTERM", "term" or "15".
   *
   * @throws IllegalArgumentException with a message for the user when it is not a signal
   */
  public static int number(String s) {
    String t = s.trim().toUpperCase(Locale.ROOT);
    if (!t.isEmpty() && t.chars().allMatch(Character::isDigit)) {
      int n;
      try {
        n = Integer.parseInt(t);
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n >= 1 && n <= 64) {
        return n;
      }
      throw new IllegalArgumentException(
          "invalid signal: " + s + " (use a name like SIGTERM or 1-64)");
    }
    if (!t.startsWith("SIG")) {
      t = "SIG" + t;
    }
    for (int i = 1; i < NAMES.length; i++) {
      if (t.equals(NAMES[i])) {
        return i;
      }
    }
    if (t.startsWith("SIGRTMIN+")) {
      try {
        int k = Integer.parseInt(t.substring(9));
        if (k >= 0 && k <= 30) {
          return 34 + k;
        }
      } catch (NumberFormatException e) {
        // fall through to the error
      }
    }
    throw new IllegalArgumentException(
        "invalid signal: " + s + " (use a name like SIGTERM or 1-64)");
  }

  /** The canonical name for any accepted spelling. */
  public static String canonical(String s) {
    return name(number(s));
  }
}
