package dev.inferno.daemon.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.model.VmStats;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class StatsFiguresTest {
  static StatsSample sample(long timeSec, long busyMs, long idleMs) {
    return new StatsSample(timeSec * 1_000_000_000L, busyMs, idleMs, 0, 0, 0, 0, 0, 0, 0, 0);
  }

  @Test
  void cpuPercentIsTheBusyShareTimesTheVcpus() {
    // 2 vCPUs over 1 s = 2000 ms of CPU time: 1000 busy (one vCPU flat out) reads 100 %
    assertThat(StatsFigures.cpuPercent(sample(10, 5000, 15000), sample(11, 6000, 16000), 2))
        .isCloseTo(100.0, within(1e-9));
    // a quarter of one vCPU's time
    assertThat(StatsFigures.cpuPercent(sample(10, 100, 900), sample(11, 350, 1650), 1))
        .isCloseTo(25.0, within(1e-9));
    // idle guest
    assertThat(StatsFigures.cpuPercent(sample(10, 100, 900), sample(11, 100, 1900), 4)).isZero();
    // no time between them (the same counters twice)
    assertThat(StatsFigures.cpuPercent(sample(10, 100, 900), sample(11, 100, 900), 1)).isZero();
  }

  @Test
  void noCpuPercentWithoutTwoReadingsOfOneBoot() {
    assertThat(StatsFigures.cpuPercent(null, sample(11, 6000, 16000), 2)).isNull();
    // a restarted VM's guest counts from 0 again: not a negative rate
    assertThat(StatsFigures.cpuPercent(sample(10, 5000, 15000), sample(12, 50, 900), 2)).isNull();
    // out of order
    assertThat(StatsFigures.cpuPercent(sample(12, 5000, 15000), sample(11, 6000, 16000), 2))
        .isNull();
  }

  @Test
  void memoryIsTheCgroupsUsageWhenTheGuestHasMemcgElseTotalMinusAvailable() {
    StatsSample memcg = new StatsSample(1, 0, 0, 1000, 600, 250, 0, 0, 0, 0, 0);
    StatsSample none = new StatsSample(1, 0, 0, 1000, 600, 0, 0, 0, 0, 0, 0);
    assertThat(StatsFigures.memoryUsage(memcg)).isEqualTo(250);
    assertThat(StatsFigures.memoryUsage(none)).isEqualTo(400);
  }

  @Test
  void figuresCarryTheCountersAndTheLimit() {
    Instant t = Instant.parse("2026-12-04T10:00:00Z");
    StatsSample a =
        new StatsSample(1_000_000_000L, 1500, 500, 512 << 20, 400 << 20, 0, 10, 20, 30, 40, 3);
    StatsSample b =
        new StatsSample(2_000_000_000L, 2000, 1000, 512 << 20, 300 << 20, 0, 11, 22, 33, 44, 4);
    VmStats s = StatsFigures.of("id1", "web", a, b, 1, 536870912L, t);
    assertThat(s.cpuPercent()).isCloseTo(50.0, within(1e-9));
    assertThat(s.cpuSeconds()).isEqualTo(2.0);
    assertThat(s.memoryUsageBytes()).isEqualTo(212L << 20);
    assertThat(s.memoryLimitBytes()).isEqualTo(536870912L);
    assertThat(s.netRxBytes()).isEqualTo(11);
    assertThat(s.netTxBytes()).isEqualTo(22);
    assertThat(s.blockReadBytes()).isEqualTo(33);
    assertThat(s.blockWriteBytes()).isEqualTo(44);
    assertThat(s.pids()).isEqualTo(4);
    assertThat(s.readAt()).isEqualTo(t);
  }

  @Test
  void aTrackerKeepsTheTwoNewestDistinctReadings() {
    StatsTracker t = new StatsTracker();
    Instant now = Instant.now();
    assertThat(t.offer(sample(1, 10, 90), now)).isTrue();
    assertThat(t.offer(sample(1, 10, 90), now)).isFalse(); // the same report seen again
    assertThat(t.previous()).isNull();
    assertThat(t.offer(sample(2, 20, 180), now)).isTrue();
    assertThat(t.previous()).isEqualTo(sample(1, 10, 90));
    assertThat(t.offer(sample(3, 30, 270), now)).isTrue();
    assertThat(t.previous()).isEqualTo(sample(2, 20, 180));
    assertThat(t.last()).isEqualTo(sample(3, 30, 270));
    // the VM booted again: the old reading is no base for a rate
    assertThat(t.offer(sample(9, 1, 5), now)).isTrue();
    assertThat(t.previous()).isNull();
  }
}
