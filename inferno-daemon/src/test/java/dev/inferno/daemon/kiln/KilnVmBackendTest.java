package dev.inferno.daemon.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.backend.GuestNic;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.backend.LaunchSpec;
import dev.inferno.daemon.backend.Storage;
import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.protocol.ConsoleSize;
import dev.inferno.kiln.protocol.RunConfig;
import dev.inferno.kiln.vm.Drive;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.TmpfsMount;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.model.stream.Frame;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the adapter hands kiln and init (PROTOCOL.md §5), and how kiln's exit maps back. */
class KilnVmBackendTest {
  @Test
  void runConfigCarriesTheResolvedProcessAndStopSettings() throws Exception {
    ImageInfo img =
        new ImageInfo(
            "docker.io/library/busybox:latest",
            "sha256:m",
            "sha256:c",
            1,
            null,
            List.of("/ep"),
            List.of("default"),
            List.of("PATH=/bin"),
            "/srv",
            "nobody",
            "SIGQUIT",
            Path.of("/d.ext4"),
            List.of());
    LaunchSpec s =
        new LaunchSpec(
            "0123456789abcdef",
            "web",
            img,
            List.of("sh", "-c", "echo hi"),
            List.of("PATH=/bin", "A=1"),
            "/work",
            null,
            2,
            512L << 20,
            "SIGQUIT",
            7,
            "qemu",
            null,
            "0123456789ab",
            List.of(),
            List.of(),
            List.of(),
            false,
            false,
            null);
    RunConfig c = KilnVmBackend.runConfig(s);
    assertThat(c.process().tty()).isFalse();
    assertThat(c.process().stdin()).isFalse();
    assertThat(c.vmId()).isEqualTo("0123456789abcdef");
    assertThat(c.hostname()).isEqualTo("0123456789ab");
    // the daemon merged the image's config with the request when it created the VM: init gets
    // the process as is, with the container's HOSTNAME first
    assertThat(c.process().argv()).containsExactly("sh", "-c", "echo hi");
    assertThat(c.process().env()).containsExactly("HOSTNAME=0123456789ab", "PATH=/bin", "A=1");
    assertThat(c.process().workdir()).isEqualTo("/work");
    assertThat(c.process().user()).isEqualTo("0:0");
    assertThat(c.process().stopSignal()).isEqualTo("SIGQUIT");
    assertThat(c.stopTimeoutSecs()).isEqualTo(7);
    assertThat(c.root().writableDevice()).isEqualTo("/dev/vdb");
    assertThat(c.ports().control()).isEqualTo(10003);
    // what init reads
    assertThat(c.toJson()).startsWith("{\"version\":2,\"vm_id\":\"0123456789abcdef\"");
  }

  @Test
  void theNetworkReachesTheRunConfigAndNoneLeavesItOut() {
    ImageInfo img =
        new ImageInfo(
            "busybox",
            "sha256:m",
            "sha256:c",
            1,
            null,
            List.of(),
            List.of("sh"),
            List.of(),
            null,
            null,
            null,
            Path.of("/d.ext4"),
            List.of());
    LaunchSpec s =
        new LaunchSpec(
            "0123456789abcdef",
            "web",
            img,
            List.of("httpd"),
            List.of(),
            "/",
            null,
            1,
            256L << 20,
            "SIGTERM",
            10,
            "qemu",
            new GuestNic(
                "inf0123456789ab", "02:11:22:33:44:55", "172.30.0.6/30", "172.30.0.5", 1500),
            "web1",
            List.of("192.0.2.53"),
            List.of("example.com"),
            List.of("10.0.0.5 db"),
            true,
            true,
            List.of(24, 80));
    RunConfig c = KilnVmBackend.runConfig(s);
    assertThat(c.hostname()).isEqualTo("web1");
    assertThat(c.process().env()).contains("HOSTNAME=web1");
    assertThat(c.network())
        .isEqualTo(new RunConfig.Network("02:11:22:33:44:55", "172.30.0.6/30", "172.30.0.5", 1500));
    assertThat(c.dns().nameservers()).containsExactly("192.0.2.53");
    assertThat(c.dns().search()).containsExactly("example.com");
    assertThat(c.hosts()).containsExactly("10.0.0.5 db");
    // run -it: the terminal, the open stdin and the client's size reach init
    assertThat(c.process().tty()).isTrue();
    assertThat(c.process().stdin()).isTrue();
    assertThat(c.process().consoleSize()).isEqualTo(new ConsoleSize(24, 80));
    assertThat(c.toJson()).contains("\"network\":{").contains("\"172.30.0.6/30\"");
    // --network none: only lo, no resolvers
    LaunchSpec none =
        new LaunchSpec(
            "0123456789abcdef",
            "web",
            img,
            List.of("true"),
            List.of(),
            "/",
            null,
            1,
            256L << 20,
            "SIGTERM",
            10,
            "qemu",
            null,
            "0123456789ab",
            List.of(),
            List.of(),
            List.of(),
            false,
            false,
            null);
    assertThat(KilnVmBackend.runConfig(none).network()).isNull();
    assertThat(KilnVmBackend.runConfig(none).dns().nameservers()).isEmpty();
  }

  @Test
  void exitRecordsMapToTheApisShape() {
    var killed =
        KilnAdapter.exit(
            new ExitRecord(137, 9, false, 1, 2_500_000_000L, null, "host", "killed it"));
    assertThat(killed.code()).isEqualTo(137);
    assertThat(killed.signal()).isEqualTo("SIGKILL");
    assertThat(killed.reason()).isEqualTo("killed it");
    assertThat(killed.finishedAt().toString()).isEqualTo("1970-01-01T00:00:02.500Z");
    var normal = KilnAdapter.exit(new ExitRecord(0, null, false, 1, 2, null, "guest", null));
    assertThat(normal.signal()).isNull();
    assertThat(normal.reason()).isNull();

    // no report: kiln's 255 is "no exit code" in the API (inferno run exits 125 with the reason)
    var died =
        KilnAdapter.exit(
            ExitRecord.hostMade(
                ExitRecord.NO_REPORT_CODE,
                null,
                1,
                "the VMM exited before the guest started: qemu: -x: invalid option"));
    assertThat(died.code()).isNull();
    assertThat(died.reason()).endsWith("qemu: -x: invalid option");
    // a guest that really exited 255 keeps its code
    assertThat(KilnAdapter.exit(new ExitRecord(255, null, false, 1, 2, null, "guest", null)).code())
        .isEqualTo(255);
    // init's own error, when it has no process to report, is the reason
    assertThat(
            KilnAdapter.exit(new ExitRecord(125, null, false, 1, 2, "bad config", "guest", null))
                .reason())
        .isEqualTo("bad config");
  }

  @Test
  void logRecordsMapToOutputFrames() {
    byte[] data = "hi\n".getBytes(StandardCharsets.UTF_8);
    Frame out = KilnAdapter.frame(new LogRecord(LogRecord.STDOUT, 1, 5, 3, 7_000_000_001L, data));
    assertThat(out.kind()).isEqualTo(Frame.Kind.STDOUT);
    assertThat(out.timeNanos()).as("the host's receive time").isEqualTo(7_000_000_001L);
    assertThat(out.text()).isEqualTo("hi\n");
    assertThat(KilnAdapter.frame(new LogRecord(LogRecord.STDERR, 1, 6, 3, 4, data)).kind())
        .isEqualTo(Frame.Kind.STDERR);
    // init's own messages are errors the user must see: stderr
    assertThat(KilnAdapter.frame(new LogRecord(LogRecord.INIT, 1, 7, 3, 4, data)).kind())
        .isEqualTo(Frame.Kind.STDERR);
    assertThat(KilnAdapter.frame(new LogRecord(9, 1, 8, 3, 4, data))).isNull();
  }

  @Test
  void volumesTmpfsAndAReadOnlyRootReachKilnsSpec() {
    ImageInfo img =
        new ImageInfo(
            "busybox",
            "sha256:m",
            "sha256:c",
            1,
            null,
            List.of(),
            List.of("sh"),
            List.of(),
            null,
            null,
            null,
            Path.of("/d.ext4"),
            List.of());
    LaunchSpec s =
        new LaunchSpec(
                "0123456789abcdef",
                "web",
                img,
                List.of("true"),
                List.of(),
                "/",
                null,
                1,
                256L << 20,
                "SIGTERM",
                5,
                "qemu",
                null,
                "web",
                List.of(),
                List.of(),
                List.of(),
                false,
                false,
                null)
            .withStorage(
                new Storage(
                    List.of(
                        new Storage.Drive("db", Path.of("/v/db/volume.ext4"), "/var/lib/db", false),
                        new Storage.Drive("ro", Path.of("/v/ro/volume.ext4"), "/etc/app", true)),
                    List.of(new Storage.Tmpfs("/run/x", 1L << 20, 0700)),
                    true));
    KilnVmBackend b =
        new KilnVmBackend(
            null, Path.of("/vms"), Path.of("/k"), Path.of("/i"), 1L << 30, "qemu", false, null);
    VmSpec spec = b.vmSpec(s);
    assertThat(spec.drives())
        .containsExactly(
            new Drive(Path.of("/v/db/volume.ext4"), "/var/lib/db", false),
            new Drive(Path.of("/v/ro/volume.ext4"), "/etc/app", true));
    assertThat(spec.tmpfs()).containsExactly(new TmpfsMount("/run/x", 1L << 20, 0700));
    assertThat(spec.readOnlyRoot()).isTrue();
    // without storage: kiln's defaults
    VmSpec plain = b.vmSpec(s.withStorage(Storage.NONE));
    assertThat(plain.drives()).isEmpty();
    assertThat(plain.readOnlyRoot()).isFalse();
  }
}
