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
  void referencesNormalizeLikeDocker() {
    assertThat(References.normalize("alpine")).isEqualTo("docker.io/library/alpine:latest");
    assertThat(References.normalize("alpine:3.20")).isEqualTo("docker.io/library/alpine:3.20");
    assertThat(References.normalize("library/alpine")).isEqualTo("docker.io/library/alpine:latest");
    assertThat(References.normalize("ghcr.io/o/r:tag")).isEqualTo("ghcr.io/o/r:tag");
    String d = "sha256:" + "a".repeat(64);
    assertThat(References.normalize("localhost:5000/a/b@" + d))
        .isEqualTo("localhost:5000/a/b@" + d);
    assertThat(References.normalize("host:5000/a")).isEqualTo("host:5000/a:latest");
    for (String bad : new String[] {"", "UPPER", "a:b:c", "a@sha256:xyz", "a//b", ":tag", "a:"}) {
      assertThatThrownBy(() -> References.normalize(bad), bad)
          .hasMessageStartingWith("invalid reference format");
    }
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
