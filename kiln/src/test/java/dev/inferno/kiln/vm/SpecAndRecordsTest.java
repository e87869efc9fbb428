package dev.inferno.kiln.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.guest.ConsoleExit;
import dev.inferno.kiln.testing.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecAndRecordsTest {

  static VmSpec spec(Path state, String id) {
    return new VmSpec(
        id,
        Path.of("/k/vmlinux"),
        Path.of("/i/init"),
        TestGuest.runConfig(id, "exit", 0),
        Path.of("/img/disk.ext4"),
        64L << 20,
        2,
        256,
        Duration.ofSeconds(7),
        VmmKind.AUTO,
        state,
        null);
  }

  @Test
  void specRoundTripsThroughSpecJson(@TempDir Path dir) throws Exception {
    VmSpec s = spec(dir, "vm-1");
    SpecJson.write(s, dir.resolve("spec.json"));
    assertThat(SpecJson.read(dir.resolve("spec.json"))).isEqualTo(s);
    assertThat(Files.readString(dir.resolve("spec.json"))).contains("\"run_config\"");
  }

  @Test
  void aNicRoundTripsThroughSpecJsonAndIsChecked(@TempDir Path dir) throws Exception {
    VmSpec s = spec(dir, "vm-2").withNic(new Nic("inf0123456789ab", "02:42:ac:1e:00:02"));
    SpecJson.write(s, dir.resolve("spec.json"));
    VmSpec back = SpecJson.read(dir.resolve("spec.json"));
    assertThat(back).isEqualTo(s);
    assertThat(back.nic().tapName()).isEqualTo("inf0123456789ab");
    assertThat(back.withNic(null).nic()).isNull();
    assertThatThrownBy(() -> new Nic("inf0123456789abc", "02:42:ac:1e:00:02"))
        .hasMessageContaining("1-15 letters");
    assertThatThrownBy(() -> new Nic("tap 0", "02:42:ac:1e:00:02")).hasMessageContaining("'tap 0'");
    assertThatThrownBy(() -> new Nic("tap0", "03:42:ac:1e:00:02"))
        .hasMessageContaining("NIC mac \"03:42:ac:1e:00:02\" is not a unicast MAC address");
  }

  @Test
  void aSpecWrittenWithAVersion1RunConfigIsAdopted(@TempDir Path dir) throws Exception {
    // as the daemon wrote it before run config v2: argv as the entrypoint, for init to merge
    String v1 =
        """
        {"id":"vm-old","kernel":"/k/vmlinux","init":"/i/init","image_disk":null,
         "writable_disk_bytes":0,"vcpus":1,"memory_mib":128,"stop_timeout_ms":7000,"vmm":"qemu",
         "state_dir":"%s",
         "run_config":{"version":1,"vm_id":"vm-old","hostname":"vm-old",
           "image_config":{"Entrypoint":["/ep"],"Cmd":["x"],"Env":["PATH=/bin"],"WorkingDir":"",
             "User":"","StopSignal":"SIGQUIT"},
           "overrides":{"entrypoint":["sh","-c","sleep 9"],"cmd":[],"env":["PATH=/bin","A=1"],
             "workdir":"/w","user":null},
           "root":{"image_device":"/dev/vda","writable_device":"/dev/vdb"},"transport":"auto",
           "ports":{"logs":10000,"exit":10001,"metrics":10002,"control":10099},
           "stop":{"signal":"SIGUSR1","timeout_secs":7}}}
        """
            .formatted(dir);
    Path file = Files.writeString(dir.resolve("spec.json"), v1);
    assertThat(SpecJson.read(file).nic()).as("a spec.json from before NICs has none").isNull();
    var rc = SpecJson.read(file).runConfig();
    assertThat(rc.process().argv()).containsExactly("sh", "-c", "sleep 9");
    assertThat(rc.process().env()).containsExactly("HOSTNAME=vm-old", "PATH=/bin", "A=1");
    assertThat(rc.process().workdir()).isEqualTo("/w");
    assertThat(rc.process().stopSignal()).isEqualTo("SIGUSR1");
    assertThat(rc.ports().control()).isEqualTo(10099);
    assertThat(rc.stopTimeoutSecs()).isEqualTo(7);
  }

  @Test
  void specValidatesWhatTheVmmsWouldReject(@TempDir Path dir) {
    assertThatThrownBy(() -> spec(dir, "bad/id"))
        .hasMessageContaining("letters, digits or hyphens");
    assertThatThrownBy(() -> spec(dir, "x".repeat(65))).hasMessageContaining("1-64");
    VmSpec ok = spec(dir, "ok");
    assertThatThrownBy(() ->
            new VmSpec(
                "a",
                ok.kernel(),
                ok.init(),
                ok.runConfig(),
                null,
                0,
                0,
                128,
                Duration.ZERO,
                VmmKind.QEMU,
                dir,
                null))
        .hasMessageContaining("vcpus");
    assertThatThrownBy(() ->
            new VmSpec(
                "a",
                ok.kernel(),
                ok.init(),
                ok.runConfig(),
                null,
                1 << 20,
                1,
                128,
                Duration.ZERO,
                VmmKind.QEMU,
                dir,
                null))
        .hasMessageContaining("8 MiB");
  }

  @Test
  void sizesBeyondTheVmmOrTheHostAreRefusedWithTheLimit() throws Exception {
    long mib = 1L << 20;
    assertThat(VmSpec.sizeProblem(VmSpec.MAX_VCPUS, 256 * mib, Long.MAX_VALUE)).isEmpty();
    assertThat(VmSpec.sizeProblem(33, 256 * mib, Long.MAX_VALUE))
        .hasValueSatisfying(
            m -> assertThat(m).contains("vcpus must be 1 to 32").contains("not 33"));
    assertThat(VmSpec.sizeProblem(0, 256 * mib, Long.MAX_VALUE)).isPresent();
    assertThat(VmSpec.sizeProblem(1, 16 * mib, Long.MAX_VALUE))
        .hasValueSatisfying(m -> assertThat(m).contains("at least 32 MiB"));
    assertThat(VmSpec.sizeProblem(1, 8192 * mib, 4096 * mib))
        .hasValueSatisfying(
            m -> assertThat(m).contains("8192 MiB").contains("has 4096 MiB").contains("MemTotal"));
    assertThat(VmSpec.sizeProblem(1, 4096 * mib, 4096 * mib)).isEmpty();
    // the host's memory is /proc/meminfo's MemTotal (kB)
    String memTotal =
        Files.readAllLines(Path.of("/proc/meminfo")).stream()
            .filter(l -> l.startsWith("MemTotal:"))
            .findFirst()
            .orElseThrow();
    long kb = Long.parseLong(memTotal.replaceAll("[^0-9]", ""));
    assertThat(VmSpec.hostMemoryBytes()).isEqualTo(kb * 1024);
  }

  @Test
  void onlyAHostMadeRecordWithoutAReportLacksAnExitCode() {
    assertThat(ExitRecord.hostMade(ExitRecord.NO_REPORT_CODE, null, 1, "VMM died").hasCode())
        .isFalse();
    assertThat(ExitRecord.hostMade(137, 9, 1, "killed").hasCode()).isTrue();
    assertThat(new ExitRecord(255, null, false, 1, 2, null, "guest", null).hasCode()).isTrue();
  }

  @Test
  void vmmKindParsesAndExplains() {
    assertThat(VmmKind.parse("Firecracker")).isEqualTo(VmmKind.FIRECRACKER);
    assertThatThrownBy(() -> VmmKind.parse("xen"))
        .hasMessageContaining("auto, firecracker or qemu");
  }

  @Test
  void socketPathLimitIsEnforced() {
    assertThat(VmLayout.checkSocketPath(Path.of("/run/a.sock"))).isNotNull();
    assertThatThrownBy(() -> VmLayout.checkSocketPath(Path.of("/" + "d".repeat(120) + "/x.sock")))
        .hasMessageContaining("shorter state directory");
  }

  @Test
  void exitRecordRoundTripsAndConsoleRecoveryTakesTheLastCompleteLine(@TempDir Path dir)
      throws Exception {
    Path console = dir.resolve("console.log");
    Files.writeString(
        console,
        "[    0.1] boot\r\n"
            + "INFERNO-EXIT {\"code\":1,\"signal\":null,\"oom\":false,\"started_ns\":5,\"finished_ns\":6,\"error\":null}\r\n"
            + "noise INFERNO-EXIT {\"code\":9}\n"
            + "INFERNO-EXIT {\"code\":137,\"signal\":9,\"oom\":true,\"started_ns\":10,\"finished_ns\":20,\"error\":null}\n"
            + "INFERNO-EXIT {\"code\":3,\"sig");
    ExitRecord r = ExitRecord.fromReport(ConsoleExit.recover(console).orElseThrow(), "console");
    assertThat(r).isEqualTo(new ExitRecord(137, 9, true, 10, 20, null, "console", null));
    r.write(dir.resolve("exit.json"));
    assertThat(ExitRecord.read(dir.resolve("exit.json"))).isEqualTo(r);
    assertThat(ConsoleExit.recover(dir.resolve("none"))).isEmpty();
    Files.writeString(console, "no report here\n");
    assertThat(ConsoleExit.recover(console)).isEmpty();
  }

  @Test
  void pidFileRoundTrips(@TempDir Path dir) throws Exception {
    VmmProcess p = new VmmProcess(VmmKind.FIRECRACKER, 4242, 99);
    p.write(dir.resolve("vmm.json"));
    assertThat(VmmProcess.read(dir.resolve("vmm.json"))).isEqualTo(p);
  }
}
