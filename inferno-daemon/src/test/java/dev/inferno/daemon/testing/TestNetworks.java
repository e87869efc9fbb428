package dev.inferno.daemon.testing;

import dev.inferno.daemon.network.Ipv4Cidr;
import dev.inferno.daemon.network.Nftables;
import dev.inferno.daemon.network.TapDevices;
import dev.inferno.daemon.network.VmNetworks;
import java.io.IOException;

/**
 * The host side of the test daemons' VM networks: real TAPs and a real nftables table (the tests
 * run as root), named apart from a production daemon's ({@code ift…} devices, a table of this JVM's
 * own, another pool), so a test never touches {@code table inet inferno} or {@code inf…} devices.
 */
public final class TestNetworks {
  public static final String PREFIX = "ift";
  public static final Ipv4Cidr POOL = Ipv4Cidr.parse("10.213.0.0/16");

  private TestNetworks() {}

  /** The table of this JVM's test daemons. */
  public static String table() {
    return "inferno_test_" + ProcessHandle.current().pid();
  }

  public static VmNetworks.Settings settings() {
    return new VmNetworks.Settings(
        new Nftables.Config(table(), POOL, PREFIX, false), TapDevices.DEFAULT_MTU);
  }

  /** Removes what a test daemon may leave: its table and every test TAP. */
  public static void cleanUp() {
    try {
      new Nftables(settings().nft()).deleteTable();
    } catch (IOException e) {
      // gone already
    }
    try {
      for (String tap : TapDevices.list(PREFIX)) {
        TapDevices.delete(tap);
      }
    } catch (IOException e) {
      // gone already
    }
  }
}
