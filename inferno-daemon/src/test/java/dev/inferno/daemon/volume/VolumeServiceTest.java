package dev.inferno.daemon.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.daemon.api.ApiJson;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.backend.Storage;
import dev.inferno.daemon.network.VmNetworks;
import dev.inferno.daemon.store.Database;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.store.VmStore;
import dev.inferno.daemon.testing.MemoryImageBackend;
import dev.inferno.daemon.testing.ProcessVmBackend;
import dev.inferno.daemon.testing.TestNetworks;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.Defaults;
import dev.inferno.daemon.vm.EventBus;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.model.Mount;
import dev.inferno.model.RunRequest;
import dev.inferno.model.Volume;
import dev.inferno.model.VolumeCreateRequest;
import dev.inferno.model.VolumePruneResult;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Volumes in the VM life cycle, with the process backend standing in for kiln. */
class VolumeServiceTest {
  static final long SIZE = 16L << 20;

  @TempDir Path dir;
  Database db;
  VmStore store;
  ProcessVmBackend backend = new ProcessVmBackend();
  MemoryImageBackend images = new MemoryImageBackend().publish("busybox", List.of("sh"));
  EventBus events = new EventBus();
  VmService vms;
  VolumeService volumes;

  @BeforeEach
  void setUp() throws Exception {
    db = Database.open(dir.resolve("db"));
    store = new VmStore(db, ApiJson.mapper());
    vms =
        new VmService(
            store,
            images,
            backend,
            events,
            new Defaults(1, 256L << 20, "auto", 2),
            new VmNetworks(store, TestNetworks.settings()));
    vms.restoreNetworks();
    volumes = service();
    vms.useVolumes(volumes);
  }

  VolumeService service() throws Exception {
    return new VolumeService(
        new VolumeStore(dir.resolve("db"), ApiJson.mapper()),
        store,
        dir.resolve("volumes"),
        SIZE,
        events);
  }

  @AfterEach
  void tearDown() throws Exception {
    backend.killAll();
    vms.networks().close();
    volumes.close();
    db.close();
    TestNetworks.cleanUp();
  }

  static RunRequest sh(String name, String script, Mount... mounts) {
    return RunRequest.builder("busybox")
        .name(name)
        .cmd(List.of("sh", "-c", script))
        .network("none")
        .mounts(List.of(mounts))
        .build();
  }

  static boolean isExt4(Path f) throws Exception {
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
      raf.seek(1024 + 0x38); // the superblock's magic
      return (raf.read() | raf.read() << 8) == 0xEF53;
    }
  }

  ApiException refused(RunRequest req) {
    return (ApiException) catchThrowable(() -> vms.create(req, false));
  }

  static Throwable catchThrowable(org.assertj.core.api.ThrowableAssert.ThrowingCallable c) {
    return org.assertj.core.api.Assertions.catchThrowable(c);
  }

  @Test
  void aNamedVolumeIsMadeOnFirstUseAndReachesTheBackendWithTmpfsAndReadOnlyRoot() throws Exception {
    RunRequest req =
        sh(
                "one",
                "exit 0",
                Mount.volume("data", "/data/", false),
                Mount.tmpfs("/t", 1L << 20, 0700))
            .toBuilder()
            .readOnly(true)
            .build();
    VmRecord r = vms.create(req, false).vm();

    Storage s = backend.lastSpec().storage();
    assertThat(s.readOnlyRoot()).isTrue();
    assertThat(s.drives())
        .containsExactly(new Storage.Drive("data", volumes.file("data"), "/data", false));
    assertThat(s.tmpfs()).containsExactly(new Storage.Tmpfs("/t", 1L << 20, 0700));
    assertThat(isExt4(volumes.file("data"))).isTrue();
    assertThat(Files.size(volumes.file("data"))).isEqualTo(SIZE);

    Volume v = volumes.inspect("data");
    assertThat(v.anonymous()).isFalse();
    assertThat(v.usedBy()).containsExactly(r.id());
    assertThat(v.mountpoint()).isEqualTo(volumes.file("data").toString());
    assertThat(v.usedBytes()).isNotNull().isLessThan(SIZE); // sparse
    // inspect shows what the VM got
    assertThat(store.get(r.id()).orElseThrow().request().mounts())
        .containsExactly(Mount.volume("data", "/data", false), Mount.tmpfs("/t", 1L << 20, 0700));
  }

  @Test
  void aReadWriteVolumeIsInOneRunningVmAtATime() throws Exception {
    vms.create(sh("va", "sleep 30", Mount.volume("data", "/d", false)), false);

    ApiException e = refused(sh("vb", "exit 0", Mount.volume("data", "/d", false)));
    assertThat(e.status()).isEqualTo(409);
    assertThat(e.getMessage()).startsWith("volume data is in use read-write by VM va");
    assertThat(store.byName("vb")).isEmpty(); // refused before anything was made
    e = refused(sh("vb", "exit 0", Mount.volume("data", "/d", true)));
    assertThat(e.status()).isEqualTo(409);

    vms.stop("va", null, 5);
    VmRecord b = vms.create(sh("vb", "sleep 30", Mount.volume("data", "/d", true)), false).vm();
    VmRecord c = vms.create(sh("vc", "sleep 30", Mount.volume("data", "/d", true)), false).vm();
    assertThat(backend.lastSpec().storage().drives().getFirst().readOnly()).isTrue();
    e = refused(sh("vd", "exit 0", Mount.volume("data", "/d", false)));
    assertThat(e.status()).isEqualTo(409);
    assertThat(e.getMessage()).contains("is mounted read-only by VM").contains("add :ro");

    vms.stop(b.id(), null, 5);
    vms.stop(c.id(), null, 5);
    vms.create(sh("vd", "exit 0", Mount.volume("data", "/d", false)), false);
  }

  @Test
  void claimsOfVmsStillUpSurviveADaemonRestart() throws Exception {
    vms.create(sh("va", "sleep 30", Mount.volume("data", "/d", false)), false);
    // a new daemon's volume service over the same database, before any boot of its own
    try (VolumeService again = service()) {
      again.restoreClaims();
      assertThatThrownBy(
              () -> again.claim("other", "vb", List.of(Mount.volume("data", "/d", false)), false))
          .hasMessageStartingWith("volume data is in use read-write by VM va");
    }
  }

  @Test
  void imageVolumesGetAnonymousVolumesThatRmVRemoves() throws Exception {
    ImageInfo base = images.pull("busybox", null, ImageBackend.ProgressListener.NONE);
    images.publish(
        new ImageInfo(
            "docker.io/library/db:1",
            base.manifestDigest(),
            base.configDigest(),
            base.sizeBytes(),
            base.createdAt(),
            base.entrypoint(),
            base.cmd(),
            base.env(),
            base.workdir(),
            base.user(),
            base.stopSignal(),
            base.disk(),
            base.exposedPorts(),
            List.of("/var/lib/db", "/cache/"),
            null));
    RunRequest req =
        RunRequest.builder("db:1")
            .name("db1")
            .cmd(List.of("true"))
            .network("none")
            .mounts(List.of(Mount.volume("dbdata", "/var/lib/db", false)))
            .build();
    VmRecord one = vms.create(req, false).vm();
    List<Mount> mounts = store.get(one.id()).orElseThrow().request().mounts();
    assertThat(mounts).hasSize(2);
    assertThat(mounts.get(0)).isEqualTo(Mount.volume("dbdata", "/var/lib/db", false));
    String anon1 = mounts.get(1).source();
    assertThat(anon1).matches("[0-9a-f]{64}");
    assertThat(mounts.get(1).target()).isEqualTo("/cache");
    assertThat(volumes.inspect(anon1).anonymous()).isTrue();
    assertThat(backend.lastSpec().storage().drives()).hasSize(2);

    VmRecord two = vms.create(req.withName("db2").toBuilder().mounts(null).build(), false).vm();
    List<String> anon2 =
        store.get(two.id()).orElseThrow().request().mounts().stream().map(Mount::source).toList();
    assertThat(anon2).hasSize(2).allMatch(n -> n.matches("[0-9a-f]{64}"));
    vms.await("db1");
    vms.await("db2");

    vms.remove("db1", false); // plain rm keeps the volumes (Docker)
    assertThat(volumes.list()).extracting(Volume::name).contains(anon1, "dbdata");
    vms.remove("db2", false, true); // rm -v
    assertThat(volumes.list()).extracting(Volume::name).contains(anon1, "dbdata");
    assertThat(volumes.list()).extracting(Volume::name).doesNotContainAnyElementsOf(anon2);
    for (String n : anon2) {
      assertThat(volumes.file(n).getParent()).doesNotExist();
    }
  }

  @Test
  void anRmVmTakesItsAnonymousVolumesButNotItsNamedOnes() throws Exception {
    RunRequest req =
        sh(
                "gone",
                "exit 0",
                Mount.volume(null, "/scratch", false),
                Mount.volume("kept", "/k", false))
            .withAutoRemove(true);
    VmRecord r = vms.create(req, false).vm();
    String anon = backend.lastSpec().storage().drives().getFirst().volume();
    assertThat(anon).matches("[0-9a-f]{64}");
    // the auto-removal runs on the exit's thread: the record goes first, then its volumes
    long deadline = System.nanoTime() + 10_000_000_000L;
    while ((store.get(r.id()).isPresent() || volumes.list().size() > 1)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(store.get(r.id())).isEmpty();
    assertThat(volumes.list()).extracting(Volume::name).containsExactly("kept");
  }

  @Test
  void bindsAndBadTargetsAreRefusedBeforeAnythingIsMade() {
    ApiException e =
        refused(sh("vx", "exit 0", new Mount("bind", "/srv", "/srv", false, null, null)));
    assertThat(e.status()).isEqualTo(400);
    assertThat(e.getMessage())
        .isEqualTo(
            "a VM cannot share a host directory (no virtio-fs on Firecracker): use a named volume"
                + " (-v NAME:/path) and `inferno cp` to move files in");
    assertThat(refused(sh("vx", "exit 0", Mount.volume("data", "rel", false))).getMessage())
        .contains("must be an absolute path");
    assertThat(
            refused(
                    sh(
                        "vx",
                        "exit 0",
                        Mount.volume("data", "/d", false),
                        Mount.tmpfs("/d", null, null)))
                .getMessage())
        .contains("duplicate mount target /d");
    assertThat(store.all()).isEmpty();
    assertThat(volumes.list()).isEmpty();
  }

  @Test
  void removeRefusesAVolumeInUseAndPruneKeepsThem() throws Exception {
    volumes.create(new VolumeCreateRequest("loose", null, Map.of("team", "db")));
    VmRecord r =
        vms.create(
                sh(
                    "user",
                    "exit 0",
                    Mount.volume("held", "/h", false),
                    Mount.volume(null, "/a", false)),
                false)
            .vm();
    vms.await("user");
    ApiException e = (ApiException) catchThrowable(() -> volumes.remove("held", false));
    assertThat(e.status()).isEqualTo(409);
    assertThat(e.getMessage()).contains("volume held is in use by VM user");
    assertThat(((ApiException) catchThrowable(() -> volumes.remove("nope", false))).status())
        .isEqualTo(404);
    volumes.remove("nope", true); // -f: a missing volume is fine

    assertThat(volumes.prune(false).removed()).isEmpty(); // the anonymous one is in use
    vms.remove(r.id(), false);
    VolumePruneResult p = volumes.prune(false);
    assertThat(p.removed()).hasSize(1).allMatch(n -> n.matches("[0-9a-f]{64}"));
    assertThat(volumes.list()).extracting(Volume::name).containsExactly("held", "loose");
    p = volumes.prune(true);
    assertThat(p.removed()).containsExactlyInAnyOrder("held", "loose");
    assertThat(p.reclaimedBytes()).isPositive();
    assertThat(volumes.list()).isEmpty();
    assertThat(dir.resolve("volumes")).isEmptyDirectory();
  }

  @Test
  void createChecksNamesAndSizesAndIsIdempotent() {
    Volume a = volumes.create(new VolumeCreateRequest("data", 32L << 20, Map.of("k", "v")));
    assertThat(a.sizeBytes()).isEqualTo(32L << 20);
    assertThat(a.labels()).containsEntry("k", "v");
    assertThat(volumes.create(new VolumeCreateRequest("data", null, null)).createdAt())
        .isEqualTo(a.createdAt());
    Volume anon = volumes.create(new VolumeCreateRequest(null, null, null));
    assertThat(anon.name()).matches("[0-9a-f]{64}");
    assertThat(anon.sizeBytes()).isEqualTo(SIZE);
    assertThat(
            ((ApiException)
                    catchThrowable(
                        () -> volumes.create(new VolumeCreateRequest("a/b", null, null))))
                .status())
        .isEqualTo(400);
    assertThat(catchThrowable(() -> volumes.create(new VolumeCreateRequest("tiny", 4096L, null))))
        .hasMessageContaining("at least 8 MiB");
    assertThat(volumes.list()).hasSize(2);
  }
}
