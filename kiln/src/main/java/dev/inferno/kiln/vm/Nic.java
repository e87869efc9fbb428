package dev.inferno.kiln.vm;

import dev.inferno.kiln.protocol.RunConfig;
import java.util.regex.Pattern;

/**
 * The VM's one network device: a TAP the host made (docs/networking.md) and the MAC the guest's NIC
 * gets, the one its run config's {@link RunConfig.Network#mac()} names so init finds it.
 *
 * @param tapName the host's TAP device: 1-15 of [A-Za-z0-9_-] (IFNAMSIZ, and safe on a VMM's
 *     command line)
 * @param mac lower-case unicast MAC, e.g. "02:42:ac:1e:00:02"
 */
public record Nic(String tapName, String mac) {
  private static final Pattern TAP = Pattern.compile("[A-Za-z0-9_-]{1,15}");

  public Nic {
    if (tapName == null || !TAP.matcher(tapName).matches()) {
      throw new IllegalArgumentException(
          "TAP device name '"
              + tapName
              + "' must be 1-15 letters, digits, '_' or '-' (a Linux interface name)");
    }
    RunConfig.Network.checkMac("NIC mac", mac);
  }
}
