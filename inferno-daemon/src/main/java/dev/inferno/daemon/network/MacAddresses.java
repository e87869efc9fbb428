package dev.inferno.daemon.network;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A VM's MAC address: deterministic (02 + the first 5 bytes of sha256(vm id)), so a re-adopted or
 * restarted VM keeps it; 02 marks it locally administered and unicast, never a vendor's address.
 */
public final class MacAddresses {
  private MacAddresses() {}

  public static String forVm(String vmId) {
    byte[] digest;
    try {
      digest = MessageDigest.getInstance("SHA-256").digest(vmId.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    byte[] mac = new byte[6];
    mac[0] = 0x02;
    System.arraycopy(digest, 0, mac, 1, 5);
    return HexFormat.ofDelimiter(":").formatHex(mac);
  }
}
