package dev.inferno.daemon.testing;

import dev.inferno.daemon.network.Ipv4Cidr;
import dev.inferno.daemon.network.Nftables;
import dev.inferno.daemon.network.TapDevices;
import dev.inferno.daemon.network.VmNetworks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The host side of the test daemons' VM networks: real TAPs and a real nftables table (the tests
 * run as root), named apart from a production daemon's ({@code ift…} devices, a table of this JVM's
 * own, another pool), so a test never touches {@code table inet inferno} or {@code inf…} devices.
 */
public final class TestNetworks {
  // overridable (-Dinferno.test.tap-prefix=…, -Dinferno.test.pool=…) so that test runs of
  // several worktrees at once on one host do not remove each other's TAPs or share addresses
  public static final String PREFIX = System.getProperty("inferno.test.tap-prefix", "ift");
  public static final Ipv4Cidr POOL =
      Ipv4Cidr.parse(System.getProperty("inferno.test.pool", "10.213.0.0/16"));

  private TestNetworks() {}

  /** The table of this JVM's test daemons. */
  public static String table() {
    return "inferno_test_" + ProcessHandle.current().pid();
  }

  /**
   * The settings of this JVM's test daemons; first removes the tables of test JVMs that are gone
   * (one killed before its cleanup ran).
   */
  public static VmNetworks.Settings settings() {
    removeStaleTables();
    return new VmNetworks.Settings(
        new Nftables.Config(table(), POOL, PREFIX, false), TapDevices.DEFAULT_MTU);
  }

  private static void removeStaleTables() {
    try {
      Process p = new ProcessBuilder("nft", "list", "tables").start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      Matcher m = Pattern.compile("table inet (inferno_test_([0-9]+))").matcher(out);
      while (m.find()) {
        if (ProcessHandle.of(Long.parseLong(m.group(2))).isEmpty()) {
          new ProcessBuilder("nft", "delete", "table", "inet", m.group(1)).start().waitFor();
        }
      }
    } catch (IOException e) {
      // no nft: the test that needs it says so
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
