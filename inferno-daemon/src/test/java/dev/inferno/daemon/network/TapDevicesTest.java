package dev.inferno.daemon.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real TAP devices (root): each test's devices share a unique prefix and are removed after it. */
class TapDevicesTest {
  String prefix;
  Ipv4Cidr slot;

  @BeforeEach
  void setUp() {
    Assumptions.assumeTrue(NetTesting.isRoot(), "creating TAP devices needs root");
    prefix = "tdev" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    // 198.18.0.0/15 is the benchmarking range: no real network uses it
    slot =
        new Ipv4Cidr(
            Ipv4Cidr.parseAddress("198.18.0.0") + 4 * ThreadLocalRandom.current().nextInt(1, 16000),
            30);
  }

  @AfterEach
  void removeOurDevices() throws Exception {
    if (prefix != null) {
      for (String n : TapDevices.list(prefix)) {
        TapDevices.delete(n);
      }
      assertThat(TapDevices.list(prefix)).isEmpty();
    }
  }

  @Test
  void namesAreInfPlusTwelveHexDigits() {
    assertThat(TapDevices.nameFor("0123456789abcdef")).isEqualTo("inf0123456789ab").hasSize(15);
    assertThatThrownBy(() -> TapDevices.nameFor("abc")).hasMessageContaining("shorter than 12");
    assertThatThrownBy(() -> new TapDevices.Tap("a very long name", slot, 1500, 0, 0))
        .hasMessageContaining("not a valid interface name");
    assertThatThrownBy(() -> new TapDevices.Tap("x;reboot", slot, 1500, 0, 0))
        .hasMessageContaining("not a valid interface name");
  }

  @Test
  void theCreateScriptIsOneBatch() {
    TapDevices.Tap t =
        new TapDevices.Tap(
            "inf0123456789ab", Ipv4Cidr.parse("172.30.0.4/30"), 1500, 900001, 900001);
    assertThat(TapDevices.createScript(t))
        .isEqualTo(
            """
            tuntap add name inf0123456789ab mode tap user 900001 group 900001
            addr add 172.30.0.5/30 dev inf0123456789ab
            link set inf0123456789ab mtu 1500 up
            """);
  }

  @Test
  void createsAnOwnedTapWithItsAddressUpThenDeletesIt() throws Exception {
    String name = prefix + "a";
    TapDevices.create(new TapDevices.Tap(name, slot, 1400, 4242, 4343));
    Path dev = Path.of("/sys/class/net", name);
    assertThat(dev).exists();
    assertThat(dev.resolve("tun_flags")).exists();
    assertThat(Files.readString(dev.resolve("owner")).strip()).isEqualTo("4242");
    assertThat(Files.readString(dev.resolve("group")).strip()).isEqualTo("4343");
    assertThat(Files.readString(dev.resolve("mtu")).strip()).isEqualTo("1400");
    int flags = Integer.decode(Files.readString(dev.resolve("flags")).strip());
    assertThat(flags & 1).as("IFF_UP").isEqualTo(1);
    String host = Ipv4Cidr.formatAddress(AddressPool.hostAddress(slot));
    assertThat(NetTesting.sh("ip", "-o", "-4", "addr", "show", "dev", name))
        .contains("inet " + host + "/30");
    assertThat(TapDevices.list(prefix)).containsExactly(name);

    TapDevices.delete(name);
    assertThat(dev).doesNotExist();
    assertThat(TapDevices.list(prefix)).isEmpty();
    TapDevices.delete(name); // already gone: not an error
  }

  @Test
  void aFailedCreateLeavesNothingBehind() throws Exception {
    String name = prefix + "m";
    // the device and its address are made, then the MTU is refused: all of it must go
    assertThatThrownBy(() -> TapDevices.create(new TapDevices.Tap(name, slot, 10, 0, 0)))
        .isInstanceOf(CommandException.class)
        .hasMessageContaining("cannot create the network device " + name)
        .hasMessageContaining("ip -batch - failed")
        .hasMessageContaining("mtu");
    assertThat(TapDevices.exists(name)).isFalse();
  }

  @Test
  void anExistingDeviceIsNeitherReusedNorDeleted() throws Exception {
    String name = prefix + "e";
    TapDevices.create(new TapDevices.Tap(name, slot, 1500, 0, 0));
    assertThatThrownBy(() -> TapDevices.create(new TapDevices.Tap(name, slot, 1500, 0, 0)))
        .hasMessageContaining("it already exists; remove it with `ip link del " + name + "`");
    assertThat(TapDevices.exists(name)).isTrue();
  }

  @Test
  void leftoversOfGoneVmsAreRemovedAndLiveOnesKept() throws Exception {
    String live = prefix + "l";
    String gone1 = prefix + "g1";
    String gone2 = prefix + "g2";
    for (String n : List.of(live, gone1, gone2)) {
      TapDevices.create(new TapDevices.Tap(n, slot, 1500, 0, 0));
    }
    assertThat(TapDevices.removeLeftovers(prefix, Set.of(live))).containsExactly(gone1, gone2);
    assertThat(TapDevices.list(prefix)).containsExactly(live);
    // lo and the host's real links are never TAPs of ours
    assertThat(TapDevices.list("")).doesNotContain("lo");
  }
}
