package dev.inferno.kiln.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VmmUsageTest {

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
