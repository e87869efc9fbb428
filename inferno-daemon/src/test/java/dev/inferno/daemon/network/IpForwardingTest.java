package dev.inferno.daemon.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IpForwardingTest {
  @TempDir Path dir;

  @Test
  void setsTheSysctlOnlyWhenItIsOff() throws Exception {
    // a stand-in for /proc/sys/net/ipv4/ip_forward: the real one is host-wide
    Path f = dir.resolve("ip_forward");
    Files.writeString(f, "0\n");
    assertThat(IpForwarding.enable(f)).isTrue();
    assertThat(Files.readString(f)).isEqualTo("1\n");
    assertThat(IpForwarding.enable(f)).isFalse();
    assertThat(IpForwarding.IP_FORWARD).isEqualTo(Path.of("/proc/sys/net/ipv4/ip_forward"));
  }
}
