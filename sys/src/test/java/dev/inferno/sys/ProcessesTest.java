package dev.inferno.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ProcessesTest {

  @Test
  void killDeliversTheSignal() throws Exception {
    Process sleep = new ProcessBuilder("sleep", "30").start();
    assertThat(Processes.kill(sleep.pid(), Processes.SIGTERM)).isTrue();
    assertThat(sleep.waitFor(5, TimeUnit.SECONDS)).isTrue();
    assertThat(sleep.exitValue()).isEqualTo(128 + Processes.SIGTERM);
  }

  @Test
  void killOfAGoneProcessReportsFalse() throws Exception {
    Process t = new ProcessBuilder("true").start();
    t.waitFor();
    assertThat(Processes.kill(t.pid(), 0)).isFalse();
  }

  @Test
  void killRefusesProcessGroups() {
    assertThatThrownBy(() -> Processes.kill(0, Processes.SIGKILL))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Processes.kill(-1, Processes.SIGKILL))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void getpidIsTheJvmPid() {
    assertThat((long) Processes.getpid()).isEqualTo(ProcessHandle.current().pid());
  }

  @Test
  void startTimeIdentifiesAProcess() throws Exception {
    Process sleep = new ProcessBuilder("sleep", "30").start();
    try {
      long start = Processes.startTime(sleep.pid()).orElseThrow();
      String stat = Files.readString(Path.of("/proc/" + sleep.pid() + "/stat"));
      assertThat(Long.toString(start))
          .isEqualTo(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
      assertThat(Processes.isSameProcessAlive(sleep.pid(), start)).isTrue();
      assertThat(Processes.isSameProcessAlive(sleep.pid(), start + 1)).isFalse();
    } finally {
      sleep.destroyForcibly().waitFor();
    }
    assertThat(Processes.startTime(sleep.pid())).isEmpty();
  }

  @Test
  void startTimeParsesCommWithSpacesAndParens() {
    String stat =
        "1234 (a b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 0";
    assertThat(Processes.parseStartTime(stat)).isEqualTo(987654L);
  }

  @Test
  void zombieIsNotAlive() throws Exception {
    // the shell exits at once; until Java reaps it, it is a zombie or gone: never "alive"
    Process p = new ProcessBuilder("sh", "-c", "exit 0").start();
    long pid = p.pid();
    long start = Processes.startTime(pid).orElse(-1);
    p.waitFor();
    Thread.sleep(50);
    assertThat(Processes.isSameProcessAlive(pid, start)).isFalse();
  }

  @Test
  void subreaperAdoptsOrphanedGrandchildren() throws Exception {
    Processes.setChildSubreaper(true);
    try {
      Process sh = new ProcessBuilder("sh", "-c", "sleep 30 & echo $!").start();
      long orphan = Long.parseLong(new String(sh.getInputStream().readAllBytes()).trim());
      sh.waitFor();
      try {
        String stat = Files.readString(Path.of("/proc/" + orphan + "/stat"));
        String ppid = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1];
        assertThat(Long.parseLong(ppid)).isEqualTo(ProcessHandle.current().pid());
      } finally {
        Processes.kill(orphan, Processes.SIGKILL);
      }
    } finally {
      Processes.setChildSubreaper(false);
    }
  }
}
