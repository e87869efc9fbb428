package dev.inferno.daemon.network;

/**
 * An IPv4 prefix (address + length), the unit of the address pool and of host routes. The address
 * is kept as an int (network byte order as a number: 10.0.0.1 is 0x0A000001), host bits cleared.
 */
public record Ipv4Cidr(int address, int prefix) {
  public Ipv4Cidr {
    if (prefix < 0 || prefix > 32) {
      throw new IllegalArgumentException("prefix length " + prefix + " is not between 0 and 32");
    }
    address &= mask(prefix);
  }

  /** Parses {@code a.b.c.d/n}; the host bits must be zero, so a typo is not silently widened. */
  public static Ipv4Cidr parse(String s) {
    int slash = s.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException(
          "'" + s + "' is not an IPv4 prefix: write it as address/length, e.g. 172.30.0.0/16");
    }
    int address = parseAddress(s.substring(0, slash));
    int prefix;
    try {
      prefix = Integer.parseInt(s.substring(slash + 1));
    } catch (NumberFormatException e) {
      prefix = -1;
    }
    if (prefix < 0 || prefix > 32) {
      throw new IllegalArgumentException(
          "'" + s + "' has a bad prefix length: it must be a number from 0 to 32");
    }
    if ((address & ~mask(prefix)) != 0) {
      throw new IllegalArgumentException(
          "'" + s + "' has host bits set: did you mean " + new Ipv4Cidr(address, prefix) + "?");
    }
    return new Ipv4Cidr(address, prefix);
  }

  /** Parses a dotted quad strictly (four decimal parts 0-255, no leading zeros beyond "0"). */
  public static int parseAddress(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
    }
    int a = 0;
    for (String p : parts) {
      if (p.isEmpty()
          || p.length() > 3
          || (p.length() > 1 && p.charAt(0) == '0')
          || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
      }
      int v = Integer.parseInt(p);
      if (v > 255) {
        throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
      }
      a = (a << 8) | v;
    }
    return a;
  }

  /** Whether s is a dotted-quad IPv4 address. */
  public static boolean isAddress(String s) {
    try {
      parseAddress(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  public static String formatAddress(int a) {
    return (a >>> 24) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
  }

  static int mask(int prefix) {
    return prefix == 0 ? 0 : -1 << (32 - prefix);
  }

  public long size() {
    return 1L << (32 - prefix);
  }

  public boolean contains(int a) {
    return (a & mask(prefix)) == address;
  }

  public boolean overlaps(Ipv4Cidr o) {
    int shorter = Math.min(prefix, o.prefix);
    return ((address ^ o.address) & mask(shorter)) == 0;
  }

  /** The address at offset i inside this prefix (i = 1 is the first host). */
  public int at(long i) {
    return (int) (address + i);
  }

  @Override
  public String toString() {
    return formatAddress(address) + "/" + prefix;
  }
}
