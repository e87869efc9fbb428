package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.testing.MemoryImageBackend;
import dev.inferno.daemon.testing.ProcessVmBackend;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import java.io.RandomAccessFile;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker system df} and the build cache's prune: the figures are what the files really
 * allocate on disk (checked against du), in dockerd's shape.
 */
class DockerDiskUsageApiTest {
  @TempDir Path dir;
  TestDaemon d;
  ProcessVmBackend vms = new ProcessVmBackend();
  final ObjectMapper json = new ObjectMapper();
  Path sharedDisk;
  Path ownDisk;

  @BeforeEach
  void setUp() throws Exception {
    // two images of one config share their disk (as the image module keeps one per config); a
    // third has its own
    Path disks = Files.createDirectories(dir.resolve("disks"));
    sharedDisk = sparse(disks.resolve("shared.ext4"), 64, 3);
    ownDisk = sparse(disks.resolve("own.ext4"), 64, 2);
    MemoryImageBackend images =
        new MemoryImageBackend()
            .publish(image("busybox:latest", "a1", "c", sharedDisk))
            .publish(image("busybox:copy", "a2", "c", sharedDisk))
            .publish(image("alpine:3.20", "a3", "d", ownDisk));
    d = new TestDaemon(dir, PeerPolicy.ALLOW_ALL, vms, "1m", images);
    for (String ref : List.of("busybox:latest", "busybox:copy", "alpine:3.20")) {
      d.pull(ref);
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    d.close();
  }

  /** An image whose manifest and config digests start with the hex digits given. */
  static ImageInfo image(String ref, String manifest, String config, Path disk) {
    return new ImageInfo(
        "docker.io/library/" + ref,
        "sha256:" + manifest + "0".repeat(64 - manifest.length()),
        "sha256:" + config + "0".repeat(64 - config.length()),
        1_000,
        Instant.parse("2026-01-01T00:00:00Z"),
        List.of(),
        List.of("sh"),
        List.of(),
        null,
        null,
        null,
        disk,
        List.of());
  }

  /** A sparse file of {@code mib} MiB of which {@code written} MiB are written. */
  static Path sparse(Path f, int mib, int written) throws Exception {
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength((long) mib << 20);
      raf.seek(1L << 20);
      raf.write(new byte[written << 20]);
    }
    return f;
  }

  /** What {@code du} says the file allocates: the independent measure. */
  static long du(Path f) throws Exception {
    Process p = new ProcessBuilder("du", "-B1", "--", f.toString()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isZero();
    return Long.parseLong(out.strip().split("\\s+")[0]);
  }

  JsonNode ok(String method, String path, String body) throws Exception {
    var r = d.docker(method, path, body);
    String text = r.text();
    assertThat(r.status()).as(text).isBetween(200, 204);
    return text.isEmpty() ? null : json.readTree(text);
  }

  static JsonNode by(JsonNode list, String field, String value) {
    for (JsonNode n : list) {
      if (n.get(field).toString().contains(value)) {
        return n;
      }
    }
    throw new AssertionError("no " + field + " " + value + " in " + list);
  }

  @Test
  void dfCountsTheAllocatedBlocksOfImageDisksWritableDisksAndVolumes() throws Exception {
    long shared = du(sharedDisk);
    long own = du(ownDisk);
    assertThat(shared).isGreaterThanOrEqualTo(3L << 20).isLessThan(64L << 20); // sparse
    // a volume (a real ext4 image) mounted by a container whose writable disk holds 5 MiB
    ok("POST", "/volumes/create", "{\"Name\":\"data\"}");
    String id =
        ok(
                "POST",
                "/containers/create?name=web",
                "{\"Image\":\"busybox\",\"Cmd\":[\"true\"],"
                    + "\"HostConfig\":{\"Binds\":[\"data:/data\"]}}")
            .get("Id")
            .asText();
    Path rw = sparse(dir.resolve("scratch.ext4"), 256, 5);
    vms.writableDisk(id, rw);

    JsonNode df = ok("GET", "/v1.44/system/df", null);

    assertThat(df.get("LayersSize").asLong()).isEqualTo(shared + own); // the shared disk once
    JsonNode busybox = by(df.get("Images"), "RepoTags", "busybox:latest");
    assertThat(busybox.get("Size").asLong()).isEqualTo(shared);
    assertThat(busybox.get("SharedSize").asLong()).isEqualTo(shared);
    assertThat(busybox.get("Containers").asInt()).isEqualTo(1);
    assertThat(busybox.has("VirtualSize")).isFalse(); // 1.44
    JsonNode alpine = by(df.get("Images"), "RepoTags", "alpine:3.20");
    assertThat(alpine.get("Size").asLong()).isEqualTo(own);
    assertThat(alpine.get("SharedSize").asLong()).isZero();
    assertThat(alpine.get("Containers").asInt()).isZero();

    JsonNode web = df.get("Containers").get(0);
    assertThat(web.get("Id").asText()).isEqualTo(id);
    assertThat(web.get("Names").get(0).asText()).isEqualTo("/web");
    assertThat(web.get("SizeRw").asLong()).isEqualTo(du(rw)).isGreaterThanOrEqualTo(5L << 20);
    assertThat(web.get("SizeRootFs").asLong()).isEqualTo(du(rw) + shared);
    assertThat(web.get("Mounts").get(0).get("Name").asText()).isEqualTo("data");

    JsonNode vol = df.get("Volumes").get(0);
    assertThat(vol.get("Name").asText()).isEqualTo("data");
    Path volFile = Path.of(vol.get("Mountpoint").asText());
    assertThat(vol.get("UsageData").get("Size").asLong()).isEqualTo(du(volFile)).isPositive();
    assertThat(vol.get("UsageData").get("RefCount").asInt()).isEqualTo(1);
    assertThat(df.get("BuildCache").isArray()).isTrue();
    assertThat(df.get("BuildCache")).isEmpty();

    // the list leaves the sizes out, as dockerd without size=1, and has df's with it (ps --size)
    JsonNode list = ok("GET", "/containers/json?all=1", null);
    assertThat(list.get(0).has("SizeRw")).isFalse();
    JsonNode sized = ok("GET", "/containers/json?all=1&size=1", null).get(0);
    assertThat(sized.get("SizeRw").asLong()).isEqualTo(du(rw));
    assertThat(sized.get("SizeRootFs").asLong()).isEqualTo(du(rw) + shared);

    // the prunes tell the space they freed by the same count
    long rwBytes = du(rw);
    JsonNode containers = ok("POST", "/containers/prune", null);
    assertThat(containers.get("ContainersDeleted")).hasSize(1);
    assertThat(containers.get("SpaceReclaimed").asLong()).isEqualTo(rwBytes);
    String all = URLEncoder.encode("{\"dangling\":[\"false\"]}", "UTF-8");
    JsonNode images = ok("POST", "/images/prune?filters=" + all, null);
    // every image goes (none is used now): all that LayersSize counted, the shared disk once
    // an Untagged and a Deleted entry each, as dockerd
    assertThat(images.get("ImagesDeleted")).hasSize(2 * df.get("Images").size());
    assertThat(images.get("SpaceReclaimed").asLong()).isEqualTo(shared + own);
  }

  @Test
  void dfTypesFromApi142AndVirtualSizeBefore144() throws Exception {
    JsonNode onlyVolumes = ok("GET", "/v1.44/system/df?type=volume&type=build-cache", null);
    assertThat(onlyVolumes.get("Volumes").isArray()).isTrue();
    assertThat(onlyVolumes.get("BuildCache").isArray()).isTrue();
    assertThat(onlyVolumes.get("Images").isNull()).isTrue();
    assertThat(onlyVolumes.get("Containers").isNull()).isTrue();
    assertThat(onlyVolumes.has("LayersSize")).isFalse();

    var bad = d.docker("GET", "/v1.44/system/df?type=network", null);
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.text()).contains("unknown object type: network");

    // docker 20.10 (1.41) knows no type: everything, images with VirtualSize
    JsonNode old = ok("GET", "/v1.41/system/df?type=volume", null);
    assertThat(old.get("Images")).hasSize(3);
    assertThat(old.get("Images").get(0).get("VirtualSize").asLong())
        .isEqualTo(old.get("Images").get(0).get("Size").asLong());
  }

  @Test
  void buildPruneDeletesNothingAndRefusesWhatDockerdRefuses() throws Exception {
    JsonNode r = ok("POST", "/v1.44/build/prune", null);
    assertThat(r.toString()).isEqualTo("{\"CachesDeleted\":null,\"SpaceReclaimed\":0}");
    // what `docker system prune -f --filter until=24h --filter label=a=b` sends
    String f = URLEncoder.encode("{\"until\":{\"24h\":true},\"label\":{\"a=b\":true}}", "UTF-8");
    assertThat(ok("POST", "/v1.41/build/prune?filters=" + f, null).get("SpaceReclaimed").asLong())
        .isZero();
    assertThat(ok("POST", "/build/prune?all=1&keep-storage=0", null)).isNotNull();

    UnixHttpClient.Response colour =
        d.docker(
            "POST",
            "/build/prune?filters=" + URLEncoder.encode("{\"colour\":[\"red\"]}", "UTF-8"),
            null);
    assertThat(colour.status()).isEqualTo(400);
    assertThat(colour.text()).contains("invalid filter 'colour'");
    UnixHttpClient.Response soon =
        d.docker(
            "POST",
            "/build/prune?filters=" + URLEncoder.encode("{\"until\":[\"soon\"]}", "UTF-8"),
            null);
    assertThat(soon.status()).isEqualTo(400);
    assertThat(soon.text()).contains("\\\"until\\\" filter expects a duration");
    assertThat(d.docker("POST", "/build/prune?keep-storage=lots", null).status()).isEqualTo(400);
  }
}
