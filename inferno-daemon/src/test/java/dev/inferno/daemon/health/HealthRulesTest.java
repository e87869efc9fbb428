package dev.inferno.daemon.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.model.HealthConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthRulesTest {
  static final long S = 1_000_000_000L;

  @Test
  void theRunsFieldsOverrideTheImagesOneByOne() {
    HealthConfig image = new HealthConfig(List.of("CMD", "/check"), 10 * S, 5 * S, 2 * S, 4);
    // --health-interval alone keeps the image's test, timeout, start period and retries
    HealthConfig run = new HealthConfig(null, 3 * S, null, 0L, 0);
    assertThat(HealthRules.merge(image, run))
        .isEqualTo(new HealthConfig(List.of("CMD", "/check"), 3 * S, 5 * S, 2 * S, 4));
    // --health-cmd alone keeps the image's timings
    HealthConfig cmd = new HealthConfig(List.of("CMD-SHELL", "true"), null, null, null, null);
    assertThat(HealthRules.merge(image, cmd))
        .isEqualTo(new HealthConfig(List.of("CMD-SHELL", "true"), 10 * S, 5 * S, 2 * S, 4));
    assertThat(HealthRules.merge(image, null)).isEqualTo(image);
    assertThat(HealthRules.merge(null, cmd)).isEqualTo(cmd);
    assertThat(HealthRules.merge(null, null)).isNull();
  }

  @Test
  void noHealthcheckDisablesTheImagesCheck() {
    HealthConfig image = new HealthConfig(List.of("CMD", "/check"), null, null, null, null);
    HealthConfig merged =
        HealthRules.merge(image, new HealthConfig(List.of("NONE"), null, null, null, null));
    assertThat(HealthRules.enabled(merged)).isFalse();
    assertThat(HealthRules.enabled(image)).isTrue();
    assertThat(HealthRules.enabled(null)).isFalse();
  }

  @Test
  void defaultsAreDockers() {
    HealthConfig c = new HealthConfig(List.of("CMD", "x"), null, 0L, null, null);
    assertThat(HealthRules.interval(c)).isEqualTo(Duration.ofSeconds(30));
    assertThat(HealthRules.timeout(c)).isEqualTo(Duration.ofSeconds(30));
    assertThat(HealthRules.startPeriod(c)).isEqualTo(Duration.ZERO);
    assertThat(HealthRules.retries(c)).isEqualTo(3);
  }

  @Test
  void cmdShellRunsThroughTheShell() {
    assertThat(
            HealthRules.argv(
                new HealthConfig(List.of("CMD-SHELL", "test -f /ok"), null, null, null, null)))
        .containsExactly("/bin/sh", "-c", "test -f /ok");
    assertThat(
            HealthRules.argv(
                new HealthConfig(List.of("CMD", "test", "-f", "/ok"), null, null, null, null)))
        .containsExactly("test", "-f", "/ok");
  }

  @Test
  void refusesWhatDockerRefuses() {
    assertThatThrownBy(() ->
            HealthRules.validate(new HealthConfig(List.of("RUN", "x"), null, null, null, null)))
        .hasMessageContaining("NONE, CMD or CMD-SHELL");
    assertThatThrownBy(
            () -> HealthRules.validate(new HealthConfig(List.of("CMD"), null, null, null, null)))
        .hasMessageContaining("needs a command");
    assertThatThrownBy(() -> HealthRules.validate(new HealthConfig(null, -1L, null, null, null)))
        .hasMessageContaining("interval");
    assertThatThrownBy(() -> HealthRules.validate(new HealthConfig(null, null, 500L, null, null)))
        .hasMessageContaining("at least 1ms");
    assertThatThrownBy(() -> HealthRules.validate(new HealthConfig(null, null, null, null, -2)))
        .hasMessageContaining("retries");
    HealthRules.validate(new HealthConfig(List.of("NONE"), null, null, null, null));
    HealthRules.validate(null);
  }
}
