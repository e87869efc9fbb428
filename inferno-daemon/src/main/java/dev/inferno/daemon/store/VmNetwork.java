package dev.inferno.daemon.store;

import dev.inferno.model.PublishedPort;
import java.util.List;

/**
 * A VM's network allocation, its row in {@code vm_networks}: the host's TAP device, the VM's /30
 * (the pool hands out what no row holds), its MAC and MTU, and the published ports as bound (real
 * host ports; empty once the VM stopped, since ports are released at exit as Docker does). The
 * address stays allocated until the VM is removed.
 */
public record VmNetwork(
    String vmId, String device, String subnet, String mac, int mtu, List<PublishedPort> ports) {
  public VmNetwork {
    ports = List.copyOf(ports);
  }
}
