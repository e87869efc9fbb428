package dev.inferno.daemon.vm;

import java.security.SecureRandom;
import java.util.HexFormat;

/** VM ids: 64 random bits as 16 lowercase hex digits; users see the first 12. */
public final class VmIds {
  public static final int SHORT = 12;
  private static final SecureRandom RANDOM = new SecureRandom();

  private VmIds() {}

  public static String random() {
    return HexFormat.of().toHexDigits(RANDOM.nextLong());
  }

  public static String shortId(String id) {
    return id.length() > SHORT ? id.substring(0, SHORT) : id;
  }

  /** Whether s could be (a prefix of) an id. */
  public static boolean isHex(String s) {
    return !s.isEmpty()
        && s.length() <= 16
        && s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
}
