package dev.inferno.daemon.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class HostResolversTest {
  static final String SYSTEMD_STUB =
      """
      # This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).
      nameserver 127.0.0.53
      options edns0 trust-ad
      search corp.example
      """;
  static final String SYSTEMD_UPSTREAM =
      """
      # This is /run/systemd/resolve/resolv.conf managed by man:systemd-resolved(8).
      nameserver 192.0.2.53
      nameserver 2001:db8::53
      nameserver 198.51.100.53
      search corp.example
      """;

  @Test
  void plainResolvConfIsUsedAsItIs() {
    HostResolvers.Resolvers r =
        HostResolvers.resolve(
            "nameserver 10.255.255.53\nnameserver 10.0.0.2 # second\nsearch a.example b.example\n",
            Optional.of(SYSTEMD_UPSTREAM));
    // no loopback entry: systemd's file is not consulted
    assertThat(r.nameservers()).containsExactly("10.255.255.53", "10.0.0.2");
    assertThat(r.search()).containsExactly("a.example", "b.example");
    assertThat(r.warnings()).isEmpty();
  }

  @Test
  void systemdResolvedStubIsReplacedByItsUpstreamsIpv4Only() {
    HostResolvers.Resolvers r = HostResolvers.resolve(SYSTEMD_STUB, Optional.of(SYSTEMD_UPSTREAM));
    assertThat(r.nameservers()).containsExactly("192.0.2.53", "198.51.100.53");
    assertThat(r.search()).containsExactly("corp.example");
    assertThat(r.warnings()).isEmpty();
  }

  @Test
  void loopbackEntriesAreSkippedAndTheRestKept() {
    HostResolvers.Resolvers r =
        HostResolvers.resolve(
            "nameserver 127.0.0.1\nnameserver ::1\nnameserver 203.0.113.7\n", Optional.empty());
    assertThat(r.nameservers()).containsExactly("203.0.113.7");
    assertThat(r.warnings()).isEmpty();
  }

  @Test
  void noUsableNameserverGivesAnEmptyListAndAWarning() {
    HostResolvers.Resolvers stubOnly = HostResolvers.resolve(SYSTEMD_STUB, Optional.empty());
    assertThat(stubOnly.nameservers()).isEmpty();
    assertThat(stubOnly.warnings())
        .containsExactly(
            "the host's resolv.conf has no nameserver a VM can reach (only loopback ones, and no"
                + " systemd-resolved upstream list): VMs get no nameserver unless run with --dns");
    HostResolvers.Resolvers v6Only =
        HostResolvers.resolve("nameserver 2001:db8::1\n", Optional.empty());
    assertThat(v6Only.nameservers()).isEmpty();
    assertThat(v6Only.warnings()).singleElement().asString().contains("unless run with --dns");
    assertThat(HostResolvers.resolve("", Optional.empty()).nameservers()).isEmpty();
  }

  @Test
  void parsesCommentsDuplicatesAndTheLastSearchLine() {
    String text =
        """
        ; old style comment
        nameserver 10.1.1.1
          nameserver\t10.1.1.1
        #nameserver 10.9.9.9
        nameserver
        domain first.example
        search second.example third.example ; trailing
        options ndots:2
        """;
    assertThat(HostResolvers.nameservers(text)).containsExactly("10.1.1.1", "10.1.1.1");
    HostResolvers.Resolvers r = HostResolvers.resolve(text, Optional.empty());
    assertThat(r.nameservers()).containsExactly("10.1.1.1");
    assertThat(r.search()).containsExactly("second.example", "third.example");
  }
}
