package dev.inferno.daemon.network;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MacAddressesTest {
  @Test
  void deterministicLocallyAdministeredUnicastFromTheVmId() {
    // sha256("0123456789abcdef") = 9f9f5111f7b27a781f1f1ddde5ebc2dd2b796bfc7365c9c28b548e564176929f
    assertThat(MacAddresses.forVm("0123456789abcdef")).isEqualTo("02:9f:9f:51:11:f7");
    assertThat(MacAddresses.forVm("0123456789abcdef"))
        .isEqualTo(MacAddresses.forVm("0123456789abcdef"));
    assertThat(MacAddresses.forVm("fedcba9876543210"))
        .isNotEqualTo(MacAddresses.forVm("0123456789abcdef"));
    int first = Integer.parseInt(MacAddresses.forVm("fedcba9876543210").substring(0, 2), 16);
    assertThat(first & 1).as("unicast").isZero();
    assertThat(first & 2).as("locally administered").isEqualTo(2);
  }
}
