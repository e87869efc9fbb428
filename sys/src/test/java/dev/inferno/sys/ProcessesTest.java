package dev.inferno.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
  void statFieldsCountFromAfterACommWithSpacesAndParens() {
    String stat =
        "4242 (qemu (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 3 0 987654"
            + " 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";
    assertThat(Processes.statField(stat, 3)).isEqualTo("S");
    assertThat(Processes.statField(stat, 14)).isEqualTo("250");
    assertThat(Processes.statField(stat, 15)).isEqualTo("75");
    assertThat(Processes.statField(stat, 22)).isEqualTo("987654");
    assertThatThrownBy(() -> Processes.statField(stat, 2))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Processes.statField("1234 (short) S 1", 22))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no field 22");
    assertThatThrownBy(() -> Processes.statField("garbage", 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a /proc/pid/stat line");
  }

  @Test
  void aProcessReapedBetweenOpenAndReadFailsTheReadAndTakesItsProcDirWithIt() throws Exception {
    // the kernel behaviour procFile relies on (it broke a CI run as "IO No such process")
    Process sh = new ProcessBuilder("sleep", "30").start();
    Path dir = Path.of("/proc", Long.toString(sh.pid()));
    try (var in = Files.newInputStream(dir.resolve("stat"))) {
      sh.destroyForcibly().waitFor();
      assertThatThrownBy(in::readAllBytes)
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(NoSuchFileException.class);
    }
    assertThat(Files.notExists(dir)).isTrue();
    assertThat(Processes.procFile(sh.pid(), "stat")).isEmpty();
    assertThat(Processes.startTime(sh.pid())).isEmpty();
  }

  @Test
  void aReadErrorOfALiveProcDirIsNotMistakenForAGoneProcess(@TempDir Path tmp) throws Exception {
    Files.createDirectory(tmp.resolve("stat")); // reading a directory fails with EISDIR
    assertThatThrownBy(() -> Processes.readProcFile(tmp, "stat")).isInstanceOf(IOException.class);
    assertThat(Processes.readProcFile(tmp.resolve("gone"), "stat")).isEmpty();
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
      Process sh = new ProcessBuilder("sh", "-c", "sleep 30 >/dev/null & echo $!").start();
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
