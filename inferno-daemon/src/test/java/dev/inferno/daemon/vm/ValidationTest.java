package dev.inferno.daemon.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ValidationTest {
  @Test
  void namesFollowDockersRule() {
    assertThat(VmNames.problem("web-1.prod_a")).isNull();
    assertThat(VmNames.problem("a")).contains("at least two");
    assertThat(VmNames.problem("-web")).contains("invalid VM name");
    assertThat(VmNames.problem("we b")).contains("invalid VM name");
    assertThat(VmNames.problem("x".repeat(200))).contains("longer than");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      String n = VmNames.generate(i % 5);
      assertThat(VmNames.problem(n)).isNull();
      seen.add(n);
    }
    assertThat(seen.size()).as("generated names vary").isGreaterThan(10);
  }

  @Test
  void idsAre16HexDigits() {
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      String id = VmIds.random();
      assertThat(id).matches("[0-9a-f]{16}");
      assertThat(VmIds.isHex(id)).isTrue();
      ids.add(id);
    }
    assertThat(ids).hasSize(100);
    assertThat(VmIds.shortId("0123456789abcdef")).isEqualTo("0123456789ab");
    assertThat(VmIds.isHex("web")).isFalse();
  }

  @Test
  void signalsByNameOrNumber() {
    assertThat(SignalNames.number("SIGTERM")).isEqualTo(15);
    assertThat(SignalNames.number("term")).isEqualTo(15);
    assertThat(SignalNames.number("9")).isEqualTo(9);
    assertThat(SignalNames.canonical("kill")).isEqualTo("SIGKILL");
    assertThat(SignalNames.canonical("SIGRTMIN+2")).isEqualTo("SIGRTMIN+2");
    assertThat(SignalNames.name(36)).isEqualTo("SIGRTMIN+2");
    for (String bad : new String[] {"SIGFOO", "0", "65", "", "9999999999999"}) {
      assertThatThrownBy(() -> SignalNames.number(bad), bad)
          .hasMessageStartingWith("invalid signal");
    }
  }
}
