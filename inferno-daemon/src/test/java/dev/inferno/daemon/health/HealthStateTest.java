package dev.inferno.daemon.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.model.Health;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class HealthStateTest {
  static final Instant BOOT = Instant.parse("2026-12-04T10:00:00Z");

  static Health.Result at(int second, int code) {
    Instant t = BOOT.plusSeconds(second);
    return new Health.Result(t, t.plusMillis(10), code, "out " + second);
  }

  @Test
  void startingThenHealthyThenUnhealthyAfterRetriesFailuresInARow() {
    HealthState s = new HealthState(BOOT, Duration.ZERO, 3);
    assertThat(s.status()).isEqualTo("starting");
    assertThat(s.record(at(1, 0))).isEqualTo("healthy");
    assertThat(s.record(at(2, 0))).isNull(); // no change: no event
    assertThat(s.record(at(3, 1))).isNull();
    assertThat(s.record(at(4, 1))).isNull();
    assertThat(s.view().failingStreak()).isEqualTo(2);
    assertThat(s.record(at(5, 0))).isNull(); // a pass clears the streak
    assertThat(s.view().failingStreak()).isZero();
    s.record(at(6, 1));
    s.record(at(7, -1)); // a timeout is a failure
    assertThat(s.record(at(8, 2))).isEqualTo("unhealthy");
    assertThat(s.view().failingStreak()).isEqualTo(3);
    assertThat(s.record(at(9, 0))).isEqualTo("healthy");
  }

  @Test
  void failuresInTheStartPeriodDoNotCountWhileStarting() {
    HealthState s = new HealthState(BOOT, Duration.ofSeconds(10), 1);
    assertThat(s.record(at(2, 1))).isNull();
    assertThat(s.record(at(9, 1))).isNull();
    assertThat(s.status()).isEqualTo("starting");
    assertThat(s.view().failingStreak()).isZero();
    assertThat(s.record(at(10, 1))).isEqualTo("unhealthy");
  }

  @Test
  void failuresInTheStartPeriodCountOnceItWasHealthy() {
    HealthState s = new HealthState(BOOT, Duration.ofSeconds(60), 2);
    s.record(at(1, 0));
    s.record(at(2, 1));
    assertThat(s.record(at(3, 1))).isEqualTo("unhealthy");
  }

  @Test
  void keepsTheLastFiveResultsOldestFirst() {
    HealthState s = new HealthState(BOOT, Duration.ZERO, 3);
    for (int i = 1; i <= 7; i++) {
      s.record(at(i, 0));
    }
    assertThat(s.view().log())
        .extracting(Health.Result::output)
        .containsExactly("out 3", "out 4", "out 5", "out 6", "out 7");
  }
}
