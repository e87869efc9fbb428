package dev.inferno.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.model.HealthConfig;
import dev.inferno.model.VmStats;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** stats' cells as docker stats prints them; run's health flags as the request carries them. */
class StatsHealthCliTest {
  @Test
  void memoryInBinaryUnitsAndIoInDecimalOnes() {
    assertThat(StatsCommand.binary(13_107_200)).isEqualTo("12.5MiB");
    assertThat(StatsCommand.binary(256L << 20)).isEqualTo("256MiB");
    assertThat(StatsCommand.binary(0)).isEqualTo("0B");
    assertThat(StatsCommand.binary(1536)).isEqualTo("1.5KiB");
    assertThat(StatsCommand.decimal(1234)).isEqualTo("1.23kB");
    assertThat(StatsCommand.decimal(648)).isEqualTo("648B");
    assertThat(StatsCommand.decimal(4_100_000)).isEqualTo("4.1MB");
  }

  @Test
  void aRowHasDockersColumns() {
    VmStats s =
        new VmStats(
            "0123456789abcdef",
            "web",
            Instant.EPOCH,
            12.3456,
            2,
            1.5,
            64L << 20,
            256L << 20,
            1234,
            648,
            4_100_000,
            0,
            7);
    assertThat(StatsCommand.cells(new StatsCommand.Row(s.id(), s.name(), s), false))
        .containsExactly(
            "0123456789ab",
            "web",
            "12.35%",
            "64MiB / 256MiB",
            "25.00%",
            "1.23kB / 648B",
            "4.1MB / 0B",
            "7");
    assertThat(StatsCommand.cells(new StatsCommand.Row("gone", "gone", null), false))
        .containsExactly("gone", "gone", "--", "-- / --", "--", "-- / --", "-- / --", "--");
  }

  /** run's health options parsed from {@code args}: the request's healthcheck. */
  static HealthConfig health(String... args) {
    HealthOptions h = new HealthOptions();
    CommandLine.Model.CommandSpec spec = h.addTo(CommandLine.Model.CommandSpec.create());
    new CommandLine(spec).parseArgs(args);
    return h.config();
  }

  @Test
  void runCarriesTheHealthOptions() {
    assertThat(new RunCommand().spec().findOption("--health-cmd")).isNotNull();
    assertThat(new RunCommand().spec().findOption("--no-healthcheck")).isNotNull();
  }

  @Test
  void healthFlagsBecomeTheRequestsHealthcheck() throws Exception {
    assertThat(health()).isNull();
    assertThat(
            health(
                "--health-cmd",
                "test -f /tmp/ok",
                "--health-interval",
                "1m30s",
                "--health-timeout",
                "500ms",
                "--health-retries",
                "5",
                "--health-start-period",
                "2s"))
        .isEqualTo(
            new HealthConfig(
                List.of("CMD-SHELL", "test -f /tmp/ok"),
                90_000_000_000L,
                500_000_000L,
                2_000_000_000L,
                5));
    // one flag alone overrides that field of the image's check only
    assertThat(health("--health-interval", "5s"))
        .isEqualTo(new HealthConfig(null, 5_000_000_000L, null, null, null));
    assertThat(health("--no-healthcheck"))
        .isEqualTo(new HealthConfig(List.of("NONE"), null, null, null, null));
  }

  @Test
  void badHealthFlagsAreRefusedBeforeAnythingIsSent() {
    assertThatThrownBy(() -> health("--health-interval", "often"))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("--health-interval");
    assertThatThrownBy(() -> health("--no-healthcheck", "--health-cmd", "true"))
        .hasMessageContaining("conflicts");
    assertThatThrownBy(() -> health("--health-retries", "-1"))
        .hasMessageContaining("--health-retries");
  }
}
