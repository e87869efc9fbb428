package dev.inferno.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.protocol.RunConfig;
import dev.inferno.kiln.run.DockerRun;
import dev.inferno.kiln.testing.NdjsonCollector;
import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.GuestSession;
import dev.inferno.kiln.vm.Nic;
import dev.inferno.kiln.vm.VmmKind;
import dev.inferno.kiln.vm.WritableDisk;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KilnCommandTest {
  @TempDir Path dir;
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int kiln(String... args) {
    return kiln(GuestSession.NO_CHANNELS, args);
  }

  private int kiln(GuestSession.Factory guests, String... args) {
    KilnCommand cmd =
        new KilnCommand(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            guests);
    return KilnCommand.commandLine(cmd).execute(args);
  }

  @Test
  void initWritesADocumentedConfigThatLoads() throws Exception {
    Path cfg = dir.resolve("kiln.json");
    assertThat(kiln("--init", cfg.toString())).isZero();
    String text = Files.readString(cfg);
    assertThat(text).contains("// VM id").contains("\"vmm\": \"auto\"");
    KilnConfig c = KilnConfig.load(cfg, null);
    assertThat(c.spec().id()).isEqualTo("kiln-demo");
    assertThat(c.spec().kernel()).isEqualTo(dir.resolve("build/kernel/vmlinux"));
    assertThat(c.spec().vmm()).isEqualTo(VmmKind.AUTO);
    assertThat(c.spec().runConfig().vmId()).isEqualTo("kiln-demo");
    assertThat(c.spec().runConfig().root().writableDevice()).isNull();
    // image_config and overrides are merged by kiln: init gets the process
    assertThat(c.spec().runConfig().process().argv())
        .containsExactly("/bin/sh", "-c", "echo hello from kiln");
    assertThat(c.spec().runConfig().process().env())
        .containsExactly("HOSTNAME=kiln-demo", "PATH=" + DockerRun.DEFAULT_PATH);
    assertThat(KilnConfig.load(cfg, "qemu").spec().vmm()).isEqualTo(VmmKind.QEMU);
    assertThat(c.logSink()).isNull();
    Files.writeString(
        cfg, text.replace("\"log_sink\": null", "\"log_sink\": {\"socket\": \"run/v.sock\"}"));
    assertThat(KilnConfig.load(cfg, null).logSink())
        .isEqualTo(
            new KilnConfig.LogSinkConfig(
                dir.resolve("run/v.sock"), KilnConfig.LogSinkConfig.DEFAULT_CAPACITY));
    assertThat(c.spec().nic()).as("network: null, no NIC").isNull();
    assertThat(c.spec().runConfig().network()).isNull();
    Files.writeString(
        cfg,
        text.replace(
            "\"network\": null",
            "\"network\": {\"tap\": \"tap0\", \"mac\": \"02:00:00:00:00:01\","
                + " \"address\": \"172.30.0.2/30\", \"gateway\": \"172.30.0.1\"}"));
    KilnConfig net = KilnConfig.load(cfg, null);
    assertThat(net.spec().nic()).isEqualTo(new Nic("tap0", "02:00:00:00:00:01"));
    assertThat(net.spec().runConfig().network())
        .isEqualTo(new RunConfig.Network("02:00:00:00:00:01", "172.30.0.2/30", "172.30.0.1", 1500));
    Files.writeString(cfg, text);
    // never overwrites
    assertThat(kiln("--init", cfg.toString())).isEqualTo(125);
    assertThat(err.toString()).contains("not overwriting");
  }

  @Test
  void badConfigsAreExplained() throws Exception {
    Path cfg = Files.writeString(dir.resolve("k.json"), "{\"id\":\"x\",\"memroy_mib\":5}");
    assertThatThrownBy(() -> KilnConfig.load(cfg, null))
        .hasMessageContaining("unknown setting \"memroy_mib\"");
    assertThat(kiln("--config", cfg.toString())).isEqualTo(125);
    Path sink = Files.writeString(dir.resolve("s.json"), "{\"log_sink\": \"/run/v.sock\"}");
    assertThatThrownBy(() -> KilnConfig.load(sink, null))
        .hasMessageContaining("log_sink must be null or {\"socket\"");
    // the run section is merged and checked when the config loads, not in the guest
    Path noCmd = Files.writeString(dir.resolve("n.json"), "{\"run\": {}}");
    assertThatThrownBy(() -> KilnConfig.load(noCmd, null))
        .hasMessageContaining("n.json: run: no command specified");
    Path badLog =
        Files.writeString(
            dir.resolve("l.json"),
            "{\"run\": {\"image_config\": {\"Cmd\": [\"x\"]}, \"log\": {\"mode\": \"lossy\"}}}");
    assertThatThrownBy(() -> KilnConfig.load(badLog, null))
        .hasMessageContaining("run: log.mode \"lossy\" is not \"block\" or \"drop\"");
    for (String[] bad :
        new String[][] {
          {"{\"network\": \"tap0\"}", "network must be null or {\"tap\""},
          {
            "{\"network\": {\"mac\": \"02:00:00:00:00:01\", \"address\": \"10.0.0.2/30\","
                + " \"gateway\": \"10.0.0.1\"}}",
            "network.tap is missing"
          },
          {
            "{\"network\": {\"tap\": \"a tap\", \"mac\": \"02:00:00:00:00:01\","
                + " \"address\": \"10.0.0.2/30\", \"gateway\": \"10.0.0.1\"}}",
            "network.tap: TAP device name 'a tap' must be 1-15"
          },
          {
            "{\"network\": {\"tap\": \"t0\", \"address\": \"10.0.0.2/30\","
                + " \"gateway\": \"10.0.0.1\"}}",
            "network.mac is missing"
          },
          {
            "{\"network\": {\"tap\": \"t0\", \"mac\": \"02:00:00:00:00:01\", \"address\":"
                + " \"10.0.0.2/30\", \"gateway\": \"10.0.0.9\"}}",
            "network.gateway \"10.0.0.9\" is not in the subnet"
          },
          {"{\"network\": {\"tap\": \"t0\", \"ip\": \"x\"}}", "unknown network setting \"ip\""},
          {
            "{\"network\": {\"tap\": \"t0\", \"mac\": \"02:00:00:00:00:01\", \"address\":"
                + " \"10.0.0.2/30\", \"gateway\": \"10.0.0.1\", \"mtu\": 1e9}}",
            "network.mtu must be 68 to 65535"
          },
          {
            "{\"run\": {\"image_config\": {\"Cmd\": [\"x\"]}, \"network\": null}}",
            "run.network is not a setting"
          },
        }) {
      Path f = Files.writeString(dir.resolve("net.json"), bad[0]);
      assertThatThrownBy(() -> KilnConfig.load(f, null)).as(bad[0]).hasMessageContaining(bad[1]);
    }
    assertThat(kiln()).isEqualTo(2);
    assertThat(err.toString()).contains("--init FILE or --config FILE");
  }

  private Path config(Path init, String cmdJson) throws Exception {
    Path image = dir.resolve("image.ext4");
    WritableDisk.create(image, 8L << 20);
    String cfg =
        """
        // test config
        {
          "id": "cli-1",
          "state_dir": "state/cli-1",
          "kernel": "%s",
          "init": "%s",
          "image": "image.ext4",
          "writable_disk_mib": 16,
          "memory_mib": 128,
          "stop_timeout_secs": 2,
          "vmm": "qemu",
          "qemu": { "accel": "tcg" },
          "run": {
            "image_config": { "Cmd": %s },
            "log": { "mode": "block", "buffer_bytes": 65536, "drain_timeout_ms": 500 },
          }
        }
        """
            .formatted(TestGuest.kernel(), init, cmdJson);
    return Files.writeString(dir.resolve("kiln.json"), cfg);
  }

  @Test
  void configRunsTheVmAndExitsWithTheGuestsCode() throws Exception {
    // the stand-in init exits with argv[1] when argv[0] is "exit" (TestGuest.runConfig)
    Path cfg = config(TestGuest.init(), "[\"exit\", \"42\"]");
    int code = kiln("--config", cfg.toString(), "--console");
    assertThat(code).isEqualTo(42);
    assertThat(err.toString())
        .contains("test-init: hello")
        .contains("test-init: vda=1 vdb=1")
        .doesNotContain("INFERNO-EXIT");
    assertThat(err.toString()).contains("running under qemu");
    assertThat(ExitRecord.read(dir.resolve("state/cli-1/exit.json")).code()).isEqualTo(42);
  }

  @Test
  void withTheRealInitTheWorkloadsExitCodeComesBack() throws Exception {
    Path init = TestGuest.root().resolve("build/init/init");
    Assumptions.assumeTrue(
        Files.isExecutable(init), "skipped: no real init at " + init + " (run init/build.sh)");
    Path cfg = config(init, "[\"/bin/sh\", \"-c\", \"echo out-line; echo err-line >&2; exit 7\"]");
    // the workload needs /bin/sh: a busybox image in place of the config's empty one
    Files.delete(dir.resolve("image.ext4"));
    TestGuest.busyboxImage(dir, "sh");
    // kiln.json's log_sink: the records also go to a collector as NDJSON
    Files.writeString(
        cfg,
        Files.readString(cfg)
            .replace(
                "\"vmm\": \"qemu\",",
                "\"vmm\": \"qemu\", \"log_sink\": {\"socket\": \"sink.sock\", \"capacity\": 100},"));
    int code;
    try (NdjsonCollector collector = new NdjsonCollector(dir.resolve("sink.sock"))) {
      code = kiln((GuestSession.Factory) null, "--config", cfg.toString()); // real, with sink
      collector.awaitLines(2);
      // init's own lines (stream "init") may come too; the workload's are there, in order
      assertThat(
              collector.lines.stream()
                  .filter(l -> !l.path("stream").asText().equals("init"))
                  .map(l -> l.path("stream").asText() + " " + l.path("message").asText()))
          .containsExactly("stdout out-line", "stderr err-line");
      assertThat(collector.lines)
          .allSatisfy(l -> {
            assertThat(l.path("vm_id").asText()).isEqualTo("cli-1");
            assertThat(l.path("vm_name").asText()).isEqualTo("cli-1");
            assertThat(l.path("timestamp").asText()).endsWith("Z");
          });
    }
    assertThat(code).as(out + "\n" + err).isEqualTo(7);
    assertThat(out.toString()).isEqualTo("out-line\n");
    assertThat(err.toString()).contains("err-line").doesNotContain("out-line");
    // the exit report came over the exit channel, not from the console
    assertThat(ExitRecord.read(dir.resolve("state/cli-1/exit.json")).source()).isEqualTo("guest");
  }
}
