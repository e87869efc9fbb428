package dev.inferno.daemon.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AddressPoolTest {
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "172.30.0.0 | write it as address/length",
        "172.30.0.0/33 | bad prefix length",
        "172.30.0.0/x | bad prefix length",
        "172.30.1.0/16 | did you mean 172.30.0.0/16?",
        "172.300.0.0/16 | not an IPv4 address",
        "172.30.0/16 | not an IPv4 address",
        "172.30.00.0/16 | not an IPv4 address",
      })
  void badPrefixesAreExplained(String input, String message) {
    assertThatThrownBy(() -> Ipv4Cidr.parse(input)).hasMessageContaining(message);
  }

  @Test
  void cidrArithmetic() {
    Ipv4Cidr pool = Ipv4Cidr.parse("172.30.0.0/16");
    assertThat(pool.address()).isEqualTo(0xAC1E0000);
    assertThat(pool.size()).isEqualTo(65536);
    assertThat(pool.contains(Ipv4Cidr.parseAddress("172.30.255.255"))).isTrue();
    assertThat(pool.contains(Ipv4Cidr.parseAddress("172.31.0.0"))).isFalse();
    assertThat(pool.overlaps(Ipv4Cidr.parse("172.30.7.0/24"))).isTrue();
    assertThat(pool.overlaps(Ipv4Cidr.parse("172.0.0.0/8"))).isTrue();
    assertThat(pool.overlaps(Ipv4Cidr.parse("172.31.0.0/16"))).isFalse();
    assertThat(Ipv4Cidr.formatAddress(Ipv4Cidr.parseAddress("255.0.10.1"))).isEqualTo("255.0.10.1");
    assertThat(new Ipv4Cidr(Ipv4Cidr.parseAddress("10.1.2.3"), 8)).hasToString("10.0.0.0/8");
  }

  @Test
  void allocatesTheLowestFreeSlashThirtyWithHostDotOneAndGuestDotTwo() {
    AddressPool pool = new AddressPool(Ipv4Cidr.parse(AddressPool.DEFAULT));
    assertThat(pool.capacity()).isEqualTo(16384);
    Ipv4Cidr first = pool.allocate(Set.of());
    assertThat(first).hasToString("172.30.0.0/30");
    assertThat(Ipv4Cidr.formatAddress(AddressPool.hostAddress(first))).isEqualTo("172.30.0.1");
    assertThat(Ipv4Cidr.formatAddress(AddressPool.guestAddress(first))).isEqualTo("172.30.0.2");
    Ipv4Cidr second = pool.allocate(Set.of(first));
    assertThat(second).hasToString("172.30.0.4/30");
    // a released slot is reused before the pool grows
    Ipv4Cidr third = pool.allocate(Set.of(first, Ipv4Cidr.parse("172.30.0.8/30")));
    assertThat(third).isEqualTo(second);
    assertThat(Ipv4Cidr.formatAddress(AddressPool.guestAddress(Ipv4Cidr.parse("172.30.1.252/30"))))
        .isEqualTo("172.30.1.254");
  }

  @Test
  void anExhaustedPoolIsAClearError() {
    AddressPool pool = new AddressPool(Ipv4Cidr.parse("10.9.0.0/29"));
    assertThat(pool.capacity()).isEqualTo(2);
    Set<Ipv4Cidr> used = new HashSet<>();
    used.add(pool.allocate(used));
    used.add(pool.allocate(used));
    assertThat(used)
        .extracting(Ipv4Cidr::toString)
        .containsExactlyInAnyOrder("10.9.0.0/30", "10.9.0.4/30");
    assertThatThrownBy(() -> pool.allocate(used))
        .isInstanceOf(AddressPool.PoolExhaustedException.class)
        .hasMessage(
            "the network pool 10.9.0.0/29 is exhausted: all 2 VM addresses are in use; remove"
                + " stopped VMs (inferno rm) or configure a larger network-pool");
    assertThatThrownBy(() -> new AddressPool(Ipv4Cidr.parse("10.9.0.0/31")))
        .hasMessageContaining("smaller than one VM's /30");
  }

  static final String PROC_NET_ROUTE =
      """
      Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
      eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
      eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
      docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
      infabcdef012345\t00001EAC\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0
      """;

  @Test
  void parsesProcNetRoute() {
    List<HostRoutes.Route> routes = HostRoutes.parse(PROC_NET_ROUTE);
    assertThat(routes)
        .extracting(r -> r.device() + " " + r.destination())
        .containsExactly(
            "eth0 0.0.0.0/0",
            "eth0 192.0.2.0/24",
            "docker0 172.17.0.0/16",
            "infabcdef012345 172.30.0.0/30");
  }

  @Test
  void aPoolOverlappingAHostRouteIsRefusedButTheDefaultRouteAndOurTapsAreNot() {
    List<HostRoutes.Route> routes = HostRoutes.parse(PROC_NET_ROUTE);
    AddressPool ours = new AddressPool(Ipv4Cidr.parse("172.30.0.0/16"));
    assertThat(ours.conflicts(routes, d -> d.startsWith(TapDevices.PREFIX))).isEmpty();
    // without knowing the TAP is ours, its route is a conflict
    assertThat(ours.conflicts(routes, d -> false)).hasSize(1);
    AddressPool clash = new AddressPool(Ipv4Cidr.parse("172.16.0.0/12"));
    assertThat(clash.conflicts(routes, d -> d.startsWith(TapDevices.PREFIX)))
        .containsExactly(
            "network-pool 172.16.0.0/12 overlaps the host's route to 172.17.0.0/16 on docker0:"
                + " choose a network-pool that no host network uses, e.g. 10.213.0.0/16");
  }

  @Test
  void readsThisHostsRoutes() throws Exception {
    // every Linux host has /proc/net/route; the parse must not choke on the real thing
    assertThat(HostRoutes.read()).allSatisfy(r -> assertThat(r.device()).isNotBlank());
  }
}
