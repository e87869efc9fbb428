package dev.inferno.daemon.backend;

/**
 * A VM's network interface as the VMM and the guest need it: the host's TAP the VMM attaches, the
 * guest's MAC, its eth0 address with prefix ("172.30.0.2/30"), its gateway and the MTU.
 */
public record GuestNic(String device, String mac, String address, String gateway, int mtu) {
  /**
   * Who must own the TAP: the uid/gid the VMM opens it as (the jailed Firecracker's own; root for
   * QEMU, which runs as the daemon's user).
   */
  public record Owner(int uid, int gid) {
    public static final Owner ROOT = new Owner(0, 0);
  }
}
