package dev.inferno.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.model.ApiError;
import dev.inferno.model.AuthRequest;
import dev.inferno.model.AuthResult;
import dev.inferno.model.Created;
import dev.inferno.model.Event;
import dev.inferno.model.ExecCreateRequest;
import dev.inferno.model.ExecDetail;
import dev.inferno.model.ExecStartRequest;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.Health;
import dev.inferno.model.HealthConfig;
import dev.inferno.model.ImageSummary;
import dev.inferno.model.Mount;
import dev.inferno.model.NetworkSettings;
import dev.inferno.model.Progress;
import dev.inferno.model.PublishedPort;
import dev.inferno.model.PullRequest;
import dev.inferno.model.RunRequest;
import dev.inferno.model.SystemInfo;
import dev.inferno.model.UpdateRequest;
import dev.inferno.model.UpdateResult;
import dev.inferno.model.VersionInfo;
import dev.inferno.model.VmDetail;
import dev.inferno.model.VmState;
import dev.inferno.model.VmStats;
import dev.inferno.model.VmSummary;
import dev.inferno.model.Volume;
import dev.inferno.model.VolumeCreateRequest;
import dev.inferno.model.VolumePruneResult;
import dev.inferno.model.json.Json;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CLI's JDK-only record codec and the daemon's Jackson mapper agree byte for byte on every API
 * record, both ways: what `ps --format json`, `images --format json` and `inspect` print from the
 * records they decode is what the daemon sent.
 */
class WireTest {
  private static final ObjectMapper JACKSON = dev.inferno.daemon.api.ApiJson.mapper();
  private static final Instant T = Instant.parse("2026-11-28T19:00:01.123456789Z");
  private static final Instant T2 = Instant.parse("2026-11-28T19:05:00Z");

  static List<Record> samples() {
    ExitRecord exit = new ExitRecord(137, "SIGKILL", true, "killed \"hard\"\n", T2);
    RunRequest req =
        new RunRequest(
            "busybox",
            "n",
            List.of("A=b c"),
            List.of(),
            List.of("sh", "-c", "echo é\t\u0001"),
            "/w",
            "1000:1000",
            1.5,
            536870912L,
            "SIGTERM",
            10,
            "qemu",
            "linux/amd64",
            "never",
            true,
            List.of("127.0.0.1:8080:80", "53/udp"),
            true,
            "default",
            "web",
            List.of("9.9.9.9"),
            List.of("corp.example"),
            List.of("db:10.0.0.7"),
            true,
            false,
            List.of(24, 80),
            "on-failure:3",
            List.of(
                Mount.volume("data", "/var/lib/data", true), Mount.tmpfs("/run", 64L << 20, 01777)),
            true,
            new HealthConfig(
                List.of("CMD-SHELL", "wget -q -O- localhost"),
                5_000_000_000L,
                2_000_000_000L,
                0L,
                3));
    PublishedPort port = new PublishedPort("", 8080, 80, "tcp");
    ImageSummary img =
        new ImageSummary("docker.io/library/busybox:latest", "sha256:a", "sha256:b", 4_400_000L, T);
    return List.of(
        new VmStats("0123456789abcdef", "n", T, 12.5, 2, 3.25, 1L << 20, 256L << 20, 1, 2, 3, 4, 5),
        new VmStats("0123456789abcdef", "n", T2, null, 1, 0, 0, 0, 0, 0, 0, 0, 0),
        new VmSummary(
            "0123456789abcdef",
            "n",
            "busybox",
            List.of("sh"),
            VmState.RUNNING,
            T,
            T,
            null,
            null,
            List.of(port, new PublishedPort("127.0.0.1", 40679, 53, "udp"))),
        new VmSummary(
            "0123456789abcdef",
            "n",
            "busybox",
            List.of(),
            VmState.EXITED,
            T,
            T,
            T2,
            exit,
            List.of(),
            2,
            "unhealthy"),
        new VmDetail(
            "id",
            "n",
            "busybox",
            "sha256:d",
            List.of("true"),
            VmState.CREATED,
            T,
            null,
            null,
            null,
            42L,
            "qemu",
            req,
            new NetworkSettings(
                "default",
                "172.30.0.2",
                30,
                "172.30.0.1",
                "02:eb:de:8b:01:a6",
                "inf0123456789ab",
                List.of(port)),
            1,
            new Health("healthy", 0, List.of(new Health.Result(T, T2, 0, "ok\n")))),
        new VmDetail(
            "id",
            "n",
            "busybox",
            null,
            List.of(),
            VmState.EXITED,
            T,
            T,
            T2,
            new ExitRecord(null, null, false, "vmm died", T2),
            null,
            "firecracker",
            RunRequest.of("busybox"),
            NetworkSettings.NONE),
        new Created("id", "n", List.of("memory rounded up")),
        new Created("id", "n", List.of()),
        new UpdateRequest("on-failure:3", 536870912L, 1.5),
        new UpdateRequest(null, null, null),
        new UpdateResult("id", "n", List.of("VM n is running")),
        new Progress("Downloading", "abc", 5L, 10L, null, null),
        new Progress("Done", null, null, null, null, img),
        new ImageSummary("sha256:x", "sha256:x", "sha256:y", 0L, null),
        new SystemInfo("qemu", false, "/k", "/var/lib/inferno", 3, 1, 2, 4),
        new VersionInfo("0.1.0", "v1", "25", "linux", "amd64"),
        new AuthResult("docker.io", "Not logged in"),
        new AuthRequest(null, "u", "p"),
        new PullRequest("busybox", null),
        new ApiError("no such VM: x"),
        new Event(7, "exited", "id", null, T, exit),
        new Event(
            8,
            "volume-mounted",
            "data",
            "web",
            T,
            null,
            java.util.Map.of("driver", "local", "vm", "id", "destination", "/d", "rw", "true")),
        new ExecCreateRequest(
            List.of("sh", "-c", "echo hi"),
            List.of("A=1"),
            "nobody",
            "/tmp",
            true,
            true,
            List.of(24, 80)),
        new ExecCreateRequest(List.of("true"), null, null, null, null, null, null),
        new ExecStartRequest(true),
        new Volume(
            "data",
            "local",
            10L << 30,
            1_081_344L,
            T,
            java.util.Map.of("app", "db"),
            false,
            List.of("id"),
            "/var/lib/inferno/volumes/data/volume.ext4"),
        new Volume("a".repeat(64), "local", 1L << 24, null, T, null, true, null, "/v"),
        new VolumeCreateRequest(null, null, null),
        new VolumeCreateRequest("data", 1L << 30, java.util.Map.of("k", "v")),
        new VolumePruneResult(List.of("data"), 4096L),
        new ExecDetail(
            "e".repeat(64), "id", false, 127, null, "not found", List.of("x"), false, true),
        new ExecDetail("e".repeat(64), "id", true, null, 42, null, List.of("sh"), true, false),
        exit);
  }

  @Test
  void theCodecWritesWhatJacksonWritesAndReadsItBack() throws Exception {
    for (Record r : samples()) {
      String jackson = JACKSON.writeValueAsString(r);
      assertThat(Json.write(r)).as(r.getClass().getSimpleName()).isEqualTo(jackson);
      assertThat(Json.read(jackson, r.getClass())).isEqualTo(r);
      // and the daemon reads what the CLI writes
      assertThat(JACKSON.readValue(Json.write(r), r.getClass())).isEqualTo(r);
    }
  }

  @Test
  void printingADecodedListIsPrintingWhatTheDaemonSent() throws Exception {
    List<VmSummary> vms =
        samples().stream().filter(VmSummary.class::isInstance).map(VmSummary.class::cast).toList();
    String sent = JACKSON.writeValueAsString(vms);
    // before records, ps --format json printed Json.write of the parsed tree: the same bytes
    List<?> tree = (List<?>) Json.parse(sent);
    List<VmSummary> decoded = Json.readList(sent, VmSummary.class);
    for (int i = 0; i < vms.size(); i++) {
      assertThat(Json.write(decoded.get(i))).isEqualTo(Json.write(tree.get(i)));
    }
    assertThat(Json.pretty(decoded)).isEqualTo(Json.pretty(tree));
  }
}
