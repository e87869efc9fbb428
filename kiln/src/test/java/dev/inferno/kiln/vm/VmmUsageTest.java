package dev.inferno.kiln.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VmmUsageTest {

  @Test
  void readsCpuTicksAndStartTimeEvenWithParenthesesInTheName() {
    String stat =
        "4242 (qemu (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 3 0 987654"
            + " 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";
    assertThat(VmmUsage.statFields(stat)).containsExactly(250, 75, 987654);
  }

  @Test
  void readsVmRssInBytes() {
    assertThat(VmmUsage.rssBytes("Name:\tqemu\nVmPeak:\t  9000 kB\nVmRSS:\t  123456 kB\n"))
        .isEqualTo(123456L << 10);
    assertThat(VmmUsage.rssBytes("Name:\tzombie\nState:\tZ (zombie)\n")).isZero();
  }

  @Test
  void aLiveProcessUsesCpuAndMemoryAndAReusedPidIsNotIt() throws Exception {
    VmmProcess self = VmmProcess.of(VmmKind.QEMU, ProcessHandle.current().pid());
    VmmUsage u = VmmUsage.of(self).orElseThrow();
    assertThat(u.cpuNanos()).isPositive();
    assertThat(u.rssBytes()).isGreaterThan(1L << 20);
    assertThat(VmmUsage.of(new VmmProcess(VmmKind.QEMU, self.pid(), self.startTime() + 1)))
        .isEmpty();
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    assertThat(VmmUsage.of(new VmmProcess(VmmKind.QEMU, p.pid(), 1))).isEmpty();
  }
}
