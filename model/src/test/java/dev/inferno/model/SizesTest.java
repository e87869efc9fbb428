package dev.inferno.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.model.units.Sizes;
import org.junit.jupiter.api.Test;

class SizesTest {
  @Test
  void parsesUnits() {
    assertThat(Sizes.parse("512")).isEqualTo(512);
    assertThat(Sizes.parse("512b")).isEqualTo(512);
    assertThat(Sizes.parse("64k")).isEqualTo(65536);
    assertThat(Sizes.parse("256m")).isEqualTo(256L << 20);
    assertThat(Sizes.parse("256MiB")).isEqualTo(256L << 20);
    assertThat(Sizes.parse("2G")).isEqualTo(2L << 30);
    assertThat(Sizes.parse("1t")).isEqualTo(1L << 40);
  }

  @Test
  void rejectsNonsense() {
    for (String bad : new String[] {"", "m", "-5m", "12q", "1.5g", "99999999999999999999t"}) {
      assertThatThrownBy(() -> Sizes.parse(bad), bad).hasMessageStartingWith("invalid size");
    }
  }

  @Test
  void printsLikeDocker() {
    assertThat(Sizes.human(999)).isEqualTo("999B");
    assertThat(Sizes.human(1_234_567)).isEqualTo("1.23MB");
    assertThat(Sizes.human(5_000_000_000L)).isEqualTo("5.00GB");
  }
}
