package dev.inferno.model;

import java.util.List;

/**
 * A VM's network as {@code inferno inspect} shows it (Docker's NetworkSettings where it fits; the
 * ports are a list rather than Docker's map keyed by "80/tcp", each entry saying both sides).
 *
 * @param network "default" or "none"
 * @param ipAddress the guest's eth0 address, or null (none)
 * @param ipPrefixLen its prefix length (30), or 0
 * @param gateway the guest's gateway (the host end of its link), or null
 * @param macAddress the guest's MAC, or null
 * @param device the host's TAP device for the VM, or null
 * @param ports the published ports while the VM runs (released when it stops)
 */
public record NetworkSettings(
    String network,
    String ipAddress,
    int ipPrefixLen,
    String gateway,
    String macAddress,
    String device,
    List<PublishedPort> ports) {
  public NetworkSettings {
    ports = ports == null ? List.of() : List.copyOf(ports);
  }

  public static final NetworkSettings NONE =
      new NetworkSettings("none", null, 0, null, null, null, List.of());
}
