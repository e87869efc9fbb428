package dev.inferno.model.units;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void humanDurationsLikeDocker() {
    assertThat(Durations.human(Duration.ofMillis(300))).isEqualTo("Less than a second");
    assertThat(Durations.human(Duration.ofSeconds(-3))).isEqualTo("Less than a second");
    assertThat(Durations.human(Duration.ofSeconds(1))).isEqualTo("1 second");
    assertThat(Durations.human(Duration.ofSeconds(45))).isEqualTo("45 seconds");
    assertThat(Durations.human(Duration.ofSeconds(90))).isEqualTo("About a minute");
    assertThat(Durations.human(Duration.ofMinutes(12))).isEqualTo("12 minutes");
    assertThat(Durations.human(Duration.ofMinutes(70))).isEqualTo("About an hour");
    assertThat(Durations.human(Duration.ofHours(30))).isEqualTo("30 hours");
    assertThat(Durations.human(Duration.ofDays(3))).isEqualTo("3 days");
    assertThat(Durations.human(Duration.ofDays(20))).isEqualTo("2 weeks");
    assertThat(Durations.human(Duration.ofDays(90))).isEqualTo("3 months");
    assertThat(Durations.human(Duration.ofDays(800))).isEqualTo("2 years");
  }

  @Test
  void hoursRoundToTheNearestAsGoUnitsDoes() {
    // int(d.Hours() + 0.5): 90 minutes is "2 hours", not "About an hour"
    assertThat(Durations.human(Duration.ofMinutes(90))).isEqualTo("2 hours");
    assertThat(Durations.human(Duration.ofMinutes(89))).isEqualTo("About an hour");
    assertThat(Durations.human(Duration.ofMinutes(47 * 60 + 29))).isEqualTo("47 hours");
    assertThat(Durations.human(Duration.ofMinutes(47 * 60 + 30))).isEqualTo("2 days");
  }
}
