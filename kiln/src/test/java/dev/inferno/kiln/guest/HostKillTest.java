package dev.inferno.kiln.guest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.testing.TestGuest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The process hosting kiln is SIGKILLed while a guest streams; a new one takes over; nothing is
 * lost or doubled.
 */
class HostKillTest {
  @TempDir Path dir;

  Process host() throws Exception {
    Process p = TestGuest.startJvm(LinkHostMain.class, dir.toString(), GuestLinkTest.VM);
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = r.readLine();
    assertThat(line)
        .as("host process output")
        .isEqualTo("listening 5"); // logs, exit, metrics, control, session
    return p;
  }

  @Test
  void killingTheHostMidStreamLosesNothing() throws Exception {
    Process first = host();
    Path sock = new GuestTransport.VirtioSerial(dir.resolve("sock")).listenPath(Channel.LOGS);
    Random rnd = new Random(9);
    int n = 3000;
    try (SyntheticGuest g = new SyntheticGuest(sock, 99, GuestLinkTest.VM)) {
      g.connect(new byte[0], Duration.ofSeconds(20));
      for (int i = 1; i <= 2000; i++) {
        g.send((i % 2 == 0) ? 2 : 1, GuestLinkTest.line(i, rnd));
        if (i == 1000) {
          first.destroyForcibly(); // SIGKILL: no close, no flush, stale socket files left behind
          assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
      }
      long ackedByFirst = g.acked();
      assertThat(ackedByFirst).isBetween(1L, 1000L); // it persisted and acked part, then died
      Process second = host();
      try {
        g.connect(new byte[0], Duration.ofSeconds(20));
        for (int i = 2001; i <= n; i++) {
          g.send((i % 2 == 0) ? 2 : 1, GuestLinkTest.line(i, rnd));
        }
        g.awaitAcked(n, Duration.ofSeconds(30));
      } finally {
        second.destroyForcibly();
        second.waitFor(10, TimeUnit.SECONDS);
      }
    }
    try (LogStore s = LogStore.open(dir.resolve("logs"))) {
      GuestLinkTest.assertExactlyOnce(s, 99, n, 9);
    }
  }
}
