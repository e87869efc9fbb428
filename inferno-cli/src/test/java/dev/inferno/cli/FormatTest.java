package dev.inferno.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.model.ExitRecord;
import dev.inferno.model.PublishedPort;
import dev.inferno.model.VmState;
import dev.inferno.model.VmSummary;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class FormatTest {
  @Test
  void tablesAlignColumnsWithThreeSpaces() {
    String t =
        Format.table(List.of("A", "LONGER"), List.of(List.of("xxxx", "y"), List.of("z", "w")));
    assertThat(t).isEqualTo("A      LONGER\nxxxx   y\nz      w\n");
  }

  @Test
  void statusAndCommandColumns() {
    Instant now = Instant.parse("2026-11-28T19:10:00Z");
    assertThat(
            Format.status(
                vm(VmState.RUNNING, Instant.parse("2026-11-28T19:05:00Z"), null, null), now))
        .isEqualTo("Up 5 minutes");
    Instant finished = Instant.parse("2026-11-28T19:09:30Z");
    assertThat(
            Format.status(
                vm(VmState.EXITED, null, finished, new ExitRecord(3, null, false, null, finished)),
                now))
        .isEqualTo("Exited (3) 30 seconds ago");
    assertThat(Format.status(vm(VmState.CREATED, null, null, null), now)).isEqualTo("Created");
    Instant started = Instant.parse("2026-11-28T19:08:00Z");
    assertThat(Format.status(vm(VmState.PAUSED, started, null, null), now))
        .isEqualTo("Up 2 minutes (Paused)");
    // Docker's restarting status: the last exit code, then how long it has waited
    Instant died = Instant.parse("2026-11-28T19:09:58Z");
    assertThat(
            Format.status(
                vm(VmState.RESTARTING, started, died, new ExitRecord(1, null, false, null, died)),
                now))
        .isEqualTo("Restarting (1) 2 seconds ago");
    assertThat(Format.status(withHealth(vm(VmState.RUNNING, started, null, null), "healthy"), now))
        .isEqualTo("Up 2 minutes (healthy)");
    assertThat(Format.status(withHealth(vm(VmState.RUNNING, started, null, null), "starting"), now))
        .isEqualTo("Up 2 minutes (health: starting)");
    assertThat(
            Format.status(withHealth(vm(VmState.RUNNING, started, null, null), "unhealthy"), now))
        .isEqualTo("Up 2 minutes (unhealthy)");
    assertThat(Format.command(List.of("sh", "-c", "echo hello world; sleep 100")))
        .isEqualTo("\"sh -c echo hello wo…\"");
    assertThat(Format.shortId("sha256:0123456789abcdef")).isEqualTo("0123456789ab");
  }

  private static VmSummary vm(VmState state, Instant started, Instant finished, ExitRecord exit) {
    return new VmSummary(
        "id", "n", "img", List.of(), state, null, started, finished, exit, List.of());
  }

  @Test
  void portsColumnLikeDocker() {
    assertThat(Format.ports(List.of())).isEmpty();
    assertThat(
            Format.ports(
                List.of(
                    new PublishedPort("", 8080, 80, "tcp"),
                    new PublishedPort("127.0.0.1", 5353, 53, "udp"),
                    new PublishedPort("::1", 9000, 90, "tcp"))))
        .isEqualTo("0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp, [::1]:9000->90/tcp");
  }

  @Test
  void timeArgumentsInEveryForm() {
    Instant now = Instant.parse("2026-11-28T19:00:00Z");
    assertThat(TimeArgs.parse("2026-11-28T18:00:00Z", now))
        .isEqualTo(Instant.parse("2026-11-28T18:00:00Z"));
    assertThat(TimeArgs.parse("2026-11-28T20:00:00+01:00", now)).isEqualTo(now);
    assertThat(TimeArgs.parse("1700000000", now)).isEqualTo(Instant.ofEpochSecond(1700000000));
    assertThat(TimeArgs.parse("1700000000.25", now))
        .isEqualTo(Instant.ofEpochSecond(1700000000, 250_000_000));
    assertThat(TimeArgs.parse("10m", now)).isEqualTo(now.minusSeconds(600));
    assertThat(TimeArgs.parse("1h30m", now)).isEqualTo(now.minusSeconds(5400));
    assertThat(TimeArgs.parse("1.5s", now)).isEqualTo(now.minusMillis(1500));
    assertThat(TimeArgs.query(Instant.ofEpochSecond(5, 7))).isEqualTo("5.000000007");
    for (String bad : new String[] {"yesterday", "10x", "1h30", ""}) {
      assertThatThrownBy(() -> TimeArgs.parse(bad, now), bad)
          .hasMessageStartingWith("invalid time");
    }
  }

  @Test
  void progressBars() {
    assertThat(ImageCommands.Progress.line("Downloading", "abc", 500_000L, 1_000_000L))
        .isEqualTo(
            "abc: Downloading [========================>                         ] 500kB/1.00MB");
    assertThat(ImageCommands.Progress.line("Pull complete", "abc", 1L, 1L))
        .isEqualTo("abc: Pull complete");
  }

  static VmSummary withHealth(VmSummary v, String health) {
    return new VmSummary(
        v.id(),
        v.name(),
        v.image(),
        v.command(),
        v.state(),
        v.createdAt(),
        v.startedAt(),
        v.finishedAt(),
        v.exit(),
        v.ports(),
        v.restartCount(),
        health);
  }
}
