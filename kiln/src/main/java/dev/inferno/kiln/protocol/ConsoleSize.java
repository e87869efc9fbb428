package dev.inferno.kiln.protocol;

/**
 * A terminal's size (run config {@code process.console_size}, an exec's {@code console_size}): rows
 * and columns, each 1 to 65535 (TIOCSWINSZ's u16, and a terminal has at least one cell).
 */
public record ConsoleSize(int rows, int cols) {
  public ConsoleSize {
    if (!valid(rows) || !valid(cols)) {
      throw new IllegalArgumentException(
          "console size must be [rows, cols], each 1 to 65535, not [" + rows + ", " + cols + "]");
    }
  }

  /** {@code [rows, cols]} (or null for null), as ExecRequest and the daemon's API carry it. */
  public static ConsoleSize of(int[] rowsCols) {
    if (rowsCols == null) {
      return null;
    }
    if (rowsCols.length != 2) {
      throw new IllegalArgumentException("console size must be [rows, cols]");
    }
    return new ConsoleSize(rowsCols[0], rowsCols[1]);
  }

  static boolean valid(long n) {
    return n >= 1 && n <= 65535;
  }
}
