package dev.inferno.daemon.exec;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * Docker's detach keys: the grammar ({@code --detach-keys}: comma-separated {@code ctrl-<a-z, @, [,
 * \, ], ^, _>} or single characters; default {@code ctrl-p,ctrl-q}) and the scan of a client's
 * input for them. Matched bytes are not forwarded; a partial match that fails is forwarded in full.
 */
public final class DetachKeys {
  public static final String DEFAULT = "ctrl-p,ctrl-q";

  private final byte[] keys;
  private final byte[] held;
  private int matched;

  private DetachKeys(byte[] keys) {
    this.keys = keys;
    this.held = new byte[keys.length];
  }

  /** A scanner for the sequence {@code spec} names (null or empty: the default). */
  public static DetachKeys parse(String spec) {
    return new DetachKeys(bytes(spec == null || spec.isEmpty() ? DEFAULT : spec));
  }

  /**
   * The bytes of a detach key sequence.
   *
   * @throws IllegalArgumentException naming the key that is not in the grammar
   */
  public static byte[] bytes(String spec) {
    String[] parts = spec.split(",", -1);
    byte[] out = new byte[parts.length];
    for (int i = 0; i < parts.length; i++) {
      String k = parts[i];
      if (k.length() == 1 && k.charAt(0) < 0x80) {
        out[i] = (byte) k.charAt(0);
        continue;
      }
      String lower = k.toLowerCase(Locale.ROOT);
      if (lower.length() == 6 && lower.startsWith("ctrl-")) {
        char c = lower.charAt(5);
        int code =
            c >= 'a' && c <= 'z'
                ? c - 'a' + 1
                : switch (c) {
                  case '@' -> 0;
                  case '[' -> 27;
                  case '\\' -> 28;
                  case ']' -> 29;
                  case '^' -> 30;
                  case '_' -> 31;
                  default -> -1;
                };
        if (code >= 0) {
          out[i] = (byte) code;
          continue;
        }
      }
      throw new IllegalArgumentException(
          "invalid detach keys \""
              + spec
              + "\": \""
              + k
              + "\" is neither a single character nor ctrl-<a-z, @, [, \\, ], ^ or _>");
    }
    return out;
  }

  /**
   * Scans one piece of input: what is not (part of) the detach sequence goes to {@code forward};
   * bytes that may begin the sequence are held until the next piece decides.
   *
   * @return true when the whole sequence was typed (what followed it is dropped: the client left)
   */
  public boolean scan(byte[] in, int off, int len, ByteArrayOutputStream forward) {
    for (int i = off; i < off + len; i++) {
      byte b = in[i];
      if (b == keys[matched]) {
        held[matched++] = b;
        if (matched == keys.length) {
          matched = 0;
          return true;
        }
        continue;
      }
      if (matched > 0) {
        // the partial match failed: it was input after all; the byte may start a new match
        forward.write(held, 0, matched);
        matched = 0;
        if (b == keys[0]) {
          held[matched++] = b;
          if (matched == keys.length) {
            matched = 0;
            return true;
          }
          continue;
        }
      }
      forward.write(b);
    }
    return false;
  }

  /** The bytes held as a partial match (the input ended): forwarded by the caller. */
  public byte[] pending() {
    byte[] p = Arrays.copyOf(held, matched);
    matched = 0;
    return p;
  }
}
