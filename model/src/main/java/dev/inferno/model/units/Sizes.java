package dev.inferno.model.units;

import java.util.Locale;

/** Byte sizes as users write them: {@code 512}, {@code 64k}, {@code 256m}, {@code 2g} (binary). */
public final class Sizes {
  private Sizes() {}

  /**
   * Parses a size.
   *
   * @throws IllegalArgumentException with a message for the user
   */
  public static long parse(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    if (t.endsWith("ib")) {
      t = t.substring(0, t.length() - 2);
    } else if (t.endsWith("b") && t.length() > 1 && !Character.isDigit(t.charAt(t.length() - 2))) {
      t = t.substring(0, t.length() - 1);
    }
    long mult = 1;
    if (!t.isEmpty()) {
      switch (t.charAt(t.length() - 1)) {
        case 'b' -> t = t.substring(0, t.length() - 1);
        case 'k' -> mult = 1L << 10;
        case 'm' -> mult = 1L << 20;
        case 'g' -> mult = 1L << 30;
        case 't' -> mult = 1L << 40;
        default -> {}
      }
      if (mult != 1) {
        t = t.substring(0, t.length() - 1);
      }
    }
    try {
      long n = Long.parseLong(t);
      if (n < 0) {
        throw new NumberFormatException();
      }
      return Math.multiplyExact(n, mult);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "invalid size \"" + s + "\": expected a number with an optional unit b, k, m, g or t");
    }
  }

  /** Human-readable, like Docker's: 1.23MB (decimal units, as docker images prints). */
  public static String human(long bytes) {
    String[] units = {"B", "kB", "MB", "GB", "TB"};
    double v = bytes;
    int u = 0;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    return u == 0 ? bytes + "B" : String.format(Locale.ROOT, "%.3g%s", v, units[u]);
  }
}
