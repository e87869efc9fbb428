package dev.inferno.daemon.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.daemon.vm.RestartPolicy.Decision;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** moby's restartmanager rules, as a table (restartmanager.go and its daemon's use of it). */
class RestartPolicyTest {
  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "'', no, 0",
    "no, no, 0",
    "always, always, 0",
    "unless-stopped, unless-stopped, 0",
    "on-failure, on-failure, 0",
    "on-failure:0, on-failure, 0",
    "on-failure:5, on-failure:5, 5",
  })
  void parses(String in, String shown, int max) {
    RestartPolicy p = RestartPolicy.parse(in);
    assertThat(p.toString()).isEqualTo(shown);
    assertThat(p.maxRetries()).isEqualTo(max);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "sometimes|no, on-failure[:N], always or unless-stopped",
        "always:3|maximum retry count can only be used with 'on-failure'",
        "unless-stopped:1|maximum retry count can only be used with 'on-failure'",
        "on-failure:x|whole number of 0 or more",
        "on-failure:-1|whole number of 0 or more",
        "on-failure:|whole number of 0 or more",
        "Always|no, on-failure[:N], always or unless-stopped",
      })
  void refusesWithWhatIsAccepted(String in, String message) {
    assertThatThrownBy(() -> RestartPolicy.parse(in))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"" + in + "\"")
        .hasMessageContaining(message);
  }

  /**
   * policy, exit code, stopped by hand, cancelled, restarts so far, ran (ms), last delay (ms) →
   * restart?, delay (ms) remembered.
   */
  @ParameterizedTest(name = "{0} exit {1} byHand={2} cancelled={3} count={4} ran={5} last={6}")
  @CsvSource({
    // no never restarts (and keeps no delay)
    "no,             1,  false, false, 0,     50,     0, false,     0",
    // always: any exit, even 0, even stopped by hand (moby), not when cancelled (ExitOnNext)
    "always,         0,  false, false, 0,     50,     0, true,    100",
    "always,         1,  true,  false, 7,     50,     0, true,    100",
    "always,       137,  true,  true,  0,     50,     0, false,     0",
    // unless-stopped: not after a stop by hand
    "unless-stopped, 0,  false, false, 0,     50,     0, true,    100",
    "unless-stopped, 0,  true,  false, 0,     50,     0, false,   100",
    // on-failure: non-zero only, at most N times (0: no limit)
    "on-failure,     0,  false, false, 0,     50,     0, false,   100",
    "on-failure,     1,  false, false, 0,     50,     0, true,    100",
    "on-failure,    -1,  false, false, 99,    50,     0, true,    100",
    "on-failure:2,   1,  false, false, 1,     50,   100, true,    200",
    "on-failure:2,   1,  false, false, 2,     50,   200, false,   400",
    // on-failure ignores a stop by hand (moby); a cancel does not
    "on-failure:2,   1,  true,  false, 0,     50,     0, true,    100",
    "on-failure:2, 143,  true,  true,  0,     50,     0, false,     0",
    // back-off: doubles from 100 ms, capped at 1 min, reset by a run of 10 s or more
    "always,         1,  false, false, 3,     50,   400, true,    800",
    "always,         1,  false, false, 9,     50, 51200, true,  60000",
    "always,         1,  false, false, 9,     50, 60000, true,  60000",
    "always,         1,  false, false, 9,  9999, 60000, true,  60000",
    "always,         1,  false, false, 9, 10000, 60000, true,    100",
  })
  void decidesAsMoby(
      String policy,
      int code,
      boolean byHand,
      boolean cancelled,
      int count,
      long ranMs,
      long lastMs,
      boolean restarts,
      long delayMs) {
    Decision d =
        RestartPolicy.parse(policy)
            .decide(
                new RestartPolicy.Exit(
                    code,
                    byHand,
                    cancelled,
                    count,
                    Duration.ofMillis(ranMs),
                    Duration.ofMillis(lastMs)));
    assertThat(d instanceof Decision.Restart).isEqualTo(restarts);
    assertThat(d.delay()).isEqualTo(Duration.ofMillis(delayMs));
    if (d instanceof Decision.Restart r) {
      assertThat(r.count()).isEqualTo(count + 1);
    }
  }

  @Test
  void backOffScheduleFromAVmThatFailsAtOnce() {
    RestartPolicy p = RestartPolicy.parse("always");
    List<Long> delays = new ArrayList<>();
    Duration last = Duration.ZERO;
    for (int i = 0; i < 12; i++) {
      Decision d = p.decide(new RestartPolicy.Exit(1, false, false, i, Duration.ZERO, last));
      delays.add(d.delay().toMillis());
      last = d.delay();
    }
    assertThat(delays)
        .containsExactly(
            100L, 200L, 400L, 800L, 1600L, 3200L, 6400L, 12800L, 25600L, 51200L, 60000L, 60000L);
  }

  @ParameterizedTest(name = "{0} exit {1} byHand={2} count={3}")
  @CsvSource({
    "no,             1, false, 0, false",
    "always,         0, true,  0, true",
    "always,         0, false, 0, true",
    "unless-stopped, 0, false, 0, true",
    "unless-stopped, 0, true,  0, false",
    "on-failure:2,   0, false, 0, false",
    "on-failure:2,   1, false, 1, true",
    "on-failure:2,   1, false, 2, false",
  })
  void atDaemonStart(String policy, int code, boolean byHand, int count, boolean comesBack) {
    assertThat(RestartPolicy.parse(policy).atDaemonStart(code, byHand, count)).isEqualTo(comesBack);
  }
}
