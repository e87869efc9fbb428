package dev.inferno.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.ManifestException;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.registry.RegistryException;
import dev.inferno.image.testing.DiskTree;
import dev.inferno.image.testing.LocalRegistry;
import dev.inferno.image.testing.OciLayout;
import dev.inferno.image.testing.TestDatabase;
import dev.inferno.image.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pulls from the real docker-registry (no auth) into a real store and checks the ext4 disk. */
class RegistryPullTest {
  @TempDir static Path shared;
  static LocalRegistry registry;
  static OciLayout layout;

  @TempDir Path state;
  ImageService images;

  @BeforeAll
  static void startRegistry() throws Exception {
    registry = LocalRegistry.start(shared.resolve("registry"), LocalRegistry.Auth.NONE);
    layout = TestImages.busyboxLayout(shared.resolve("layout"));
    registry.push(layout.dir(), "1", "test/busybox");
    registry.push(layout.dir(), "multi", "test/busybox", "--all");
    registry.push(layout.dir(), "gzip", "test/v2s2", "--format", "v2s2");
  }

  @AfterAll
  static void stopRegistry() {
    if (registry != null) {
      registry.close();
    }
  }

  @BeforeEach
  void service() {
    images = newService(state);
  }

  static ImageService newService(Path state) {
    return new ImageService(
        state,
        TestDatabase.migrated(state.resolve("inferno.db")),
        new RegistryClient(CredentialSource.NONE, Set.of()));
  }

  String ref(String repoTag) {
    return registry.hostPort() + "/" + repoTag;
  }

  @Test
  void pullByTagBuildsADiskHoldingTheUnionOfTheLayers() {
    List<PullEvent> events = Collections.synchronizedList(new ArrayList<>());
    Image image = images.pull(ref("test/busybox:1"), Platform.DEFAULT, events::add);

    assertThat(image.references()).containsExactly(ref("test/busybox:1"));
    assertThat(image.config().get("Cmd").toString()).isEqualTo("[\"/bin/sh\",\"-c\",\"echo hi\"]");
    assertThat(image.config().get("StopSignal").asText()).isEqualTo("SIGQUIT");
    assertThat(image.platform()).isEqualTo(Platform.DEFAULT);
    assertThat(image.disk()).isRegularFile();
    assertThat(image.disk().getFileName().toString())
        .isEqualTo(image.configDigest().hex() + ".ext4");
    assertThat(image.size()).isGreaterThan(Files.exists(TestImages.BUSYBOX) ? 1_000_000 : 0);
    DiskTree.fsck(image.disk());
    assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOf(PullEvent.Resolved.class));
    assertThat(events.stream().map(PullEvent::line))
        .contains("Building image disk")
        .anySatisfy(
            l -> assertThat(l).matches("[0-9a-f]{12}: Downloading [0-9.]+[kM]B/[0-9.]+[kM]B"))
        .anySatisfy(l -> assertThat(l).matches("[0-9a-f]{12}: Pull complete"));
    assertThat(
            events.stream()
                .filter(
                    e -> e instanceof PullEvent.Layer l && l.phase() == PullEvent.Phase.EXTRACTED))
        .hasSize(3);

    DiskTree disk = new DiskTree(image.disk());
    Map<String, DiskTree.Node> root = disk.ls("/");
    assertThat(root.keySet())
        .contains("bin", "etc", "tmp", "dev", "usr", "home", "opq", "arch")
        .doesNotContain("gone", "remove-me", ".wh.gone", ".wh.remove-me");
    assertThat(root.get("tmp").perm()).isEqualTo(01777);
    assertThat(disk.ls("/opq").keySet()).containsExactly("c");
    assertThat(disk.cat("/etc/passwd")).contains("user:x:1000:1001");
    assertThat(disk.cat("/etc/hostname")).isEqualTo("inferno\n");
    assertThat(disk.cat("/arch")).isEqualTo("amd64\n");

    Map<String, DiskTree.Node> bin = disk.ls("/bin");
    assertThat(bin.get("busybox").size()).isEqualTo(TestImages.BUSYBOX.toFile().length());
    assertThat(bin.get("busybox").perm()).isEqualTo(0755);
    assertThat(bin.get("busybox-hl").inode()).isEqualTo(bin.get("busybox").inode());
    assertThat(bin.get("sh").isSymlink()).isTrue();
    assertThat(disk.stat("/bin/sh")).contains("Fast link dest: \"busybox\"");
    assertThat(disk.stat("/bin/ls")).contains("Fast link dest: \"/bin/busybox\"");

    Map<String, DiskTree.Node> dev = disk.ls("/dev");
    assertThat(dev.get("null").isChar()).isTrue();
    assertThat(disk.stat("/dev/null")).contains("Device major/minor number: 01:03");
    assertThat(dev.get("fifo").isFifo()).isTrue();
    assertThat(disk.ls("/usr/bin").get("suid").perm()).isEqualTo(04755);
    DiskTree.Node owned = disk.ls("/home/user").get("owned");
    assertThat(owned.uid()).isEqualTo(1000);
    assertThat(owned.gid()).isEqualTo(1001);
    assertThat(owned.perm()).isEqualTo(0600);
    assertThat(disk.xattr("/etc/xattr", "user.inferno")).contains("hello");
  }

  @Test
  void pullByDigestAndWarmPullReuseEverything() {
    Image first = images.pull(ref("test/busybox:1"), Platform.DEFAULT, PullProgress.NONE);
    List<PullEvent> events = Collections.synchronizedList(new ArrayList<>());
    Image again =
        images.pull(ref("test/busybox@" + first.manifestDigest()), Platform.DEFAULT, events::add);
    assertThat(again.manifestDigest()).isEqualTo(first.manifestDigest());
    assertThat(again.disk()).isEqualTo(first.disk());
    assertThat(events.stream().filter(e -> e instanceof PullEvent.Layer l))
        .allSatisfy(e ->
            assertThat(((PullEvent.Layer) e).phase()).isEqualTo(PullEvent.Phase.ALREADY_EXISTS));
    assertThat(images.find(first.manifestDigest().toString()))
        .map(Image::manifestDigest)
        .contains(first.manifestDigest());
    assertThat(images.find(first.id())).map(Image::manifestDigest).contains(first.manifestDigest());
    assertThat(images.find(ref("test/busybox:1"))).isPresent();
    assertThat(images.find(ref("test/busybox:2"))).isEmpty();
  }

  @Test
  void anIndexResolvesToTheRequestedPlatform() {
    Image amd = images.pull(ref("test/busybox:multi"), Platform.DEFAULT, PullProgress.NONE);
    assertThat(new DiskTree(amd.disk()).cat("/arch")).isEqualTo("amd64\n");
    Image one = images.pull(ref("test/busybox:1"), Platform.DEFAULT, PullProgress.NONE);
    assertThat(one.manifestDigest()).isEqualTo(amd.manifestDigest()); // same manifest as tag 1

    Image arm =
        images.pull(ref("test/busybox:multi"), Platform.parse("linux/arm64"), PullProgress.NONE);
    assertThat(arm.platform().architecture()).isEqualTo("arm64");
    assertThat(new DiskTree(arm.disk()).cat("/arch")).isEqualTo("arm64\n");

    assertThatThrownBy(() ->
            images.pull(
                ref("test/busybox:multi"), Platform.parse("linux/s390x"), PullProgress.NONE))
        .isInstanceOf(ManifestException.class)
        .hasMessageContaining("linux/s390x")
        .hasMessageContaining("linux/arm64");
  }

  @Test
  void pullsADockerSchema2Manifest() throws Exception {
    Image image = images.pull(ref("test/v2s2:gzip"), Platform.DEFAULT, PullProgress.NONE);
    byte[] manifest = images.blobs().read(image.manifestDigest());
    assertThat(new String(manifest, java.nio.charset.StandardCharsets.UTF_8))
        .contains("application/vnd.docker.distribution.manifest.v2+json");
    assertThat(image.config().get("Cmd").toString()).isEqualTo("[\"/bin/echo\",\"v2s2\"]");
    assertThat(new DiskTree(image.disk()).ls("/opq").keySet()).containsExactly("c");
  }

  @Test
  void aMissingTagOrRepositoryIsAClearError() {
    assertThatThrownBy(
            () -> images.pull(ref("test/busybox:nope"), Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("not found");
    assertThatThrownBy(() -> images.pull(ref("test/none:1"), Platform.DEFAULT, PullProgress.NONE))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("not found");
    assertThat(images.list()).isEmpty();
  }

  @Test
  void concurrentPullsOfOneImageDoTheWorkOnce() throws Exception {
    List<PullEvent> events = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Image>> fs = new ArrayList<>();
    try (var ex = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 4; i++) {
        fs.add(
            ex.submit(() -> {
              go.await();
              return images.pull(ref("test/busybox:1"), Platform.DEFAULT, events::add);
            }));
      }
      go.countDown();
      Set<Path> disks = ConcurrentHashMap.newKeySet();
      for (Future<Image> f : fs) {
        disks.add(f.get().disk());
      }
      assertThat(disks).hasSize(1);
    }
    // each layer was downloaded and extracted by exactly one of the four pulls
    Map<Digest, Long> extracted = new ConcurrentHashMap<>();
    for (PullEvent e : events) {
      if (e instanceof PullEvent.Layer l && l.phase() == PullEvent.Phase.EXTRACTING) {
        extracted.merge(l.layer(), 1L, Long::sum);
      }
    }
    assertThat(extracted).hasSize(3).allSatisfy((d, n) -> assertThat(n).isEqualTo(1L));
    assertThat(images.list()).hasSize(1);
  }

  @Test
  void removeDeletesRecordsBlobsAndDiskButNotWhileInUse() throws Exception {
    Image a = images.pull(ref("test/busybox:1"), Platform.DEFAULT, PullProgress.NONE);
    Image b = images.pull(ref("test/v2s2:gzip"), Platform.DEFAULT, PullProgress.NONE);
    assertThatThrownBy(() -> images.remove(ref("test/busybox:1"), img -> true))
        .isInstanceOf(ImageException.InUse.class);
    assertThat(images.find(ref("test/busybox:1"))).isPresent();

    ImageService.Removed r = images.remove(ref("test/busybox:1"), img -> false);
    assertThat(r.deleted()).containsExactly(a.manifestDigest());
    assertThat(images.find(ref("test/busybox:1"))).isEmpty();
    assertThat(a.disk()).doesNotExist();
    assertThat(images.blobs().has(a.manifestDigest())).isFalse();
    assertThat(images.blobs().has(a.configDigest())).isFalse();
    // the other image is untouched, and its blobs are all there
    assertThat(b.disk()).isRegularFile();
    assertThat(images.blobs().has(b.manifestDigest())).isTrue();
    try (Stream<Path> s = Files.list(state.resolve("images/blobs/sha256"))) {
      assertThat(s.count()).isEqualTo(5); // manifest + config + 3 layers of b
    }
    assertThatThrownBy(() -> images.remove("nosuch", img -> false))
        .isInstanceOf(ImageException.NotFound.class);
  }

  @Test
  void unpacksInAFastScratchDirWhenGivenOneAndCleansIt() throws Exception {
    Path fast = Files.createDirectories(state.resolve("fast"));
    ImageService svc =
        new ImageService(
            state.resolve("s2"),
            TestDatabase.migrated(state.resolve("s2.db")),
            new RegistryClient(CredentialSource.NONE, Set.of()),
            new ImageService.Options(
                dev.inferno.image.unpack.LayerUnpacker.Limits.DEFAULT, 2, fast));
    Path ours;
    try (Stream<Path> s = Files.list(fast)) {
      ours = s.findFirst().orElseThrow(); // inferno-<hash of the state dir>
    }
    List<PullEvent> events = Collections.synchronizedList(new ArrayList<>());
    Image image = svc.pull(ref("test/busybox:1"), Platform.DEFAULT, events::add);
    assertThat(new DiskTree(image.disk()).cat("/etc/hostname")).isEqualTo("inferno\n");
    // the scratch root went to the fast dir (not the state dir) and is discarded afterwards
    try (Stream<Path> s = Files.list(state.resolve("s2/images/roots"))) {
      assertThat(s).isEmpty();
    }
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (true) {
      try (Stream<Path> s = Files.list(ours)) {
        List<Path> left = s.toList();
        if (left.isEmpty()) {
          break;
        }
        assertThat(System.nanoTime()).as("scratch left: " + left).isLessThan(deadline);
      }
      Thread.sleep(50);
    }
    // a restart cleans what a crash leaves there
    Files.createDirectory(ours.resolve("crash"));
    new ImageService(
        state.resolve("s2"),
        TestDatabase.migrated(state.resolve("s2.db")),
        new RegistryClient(CredentialSource.NONE, Set.of()),
        new ImageService.Options(dev.inferno.image.unpack.LayerUnpacker.Limits.DEFAULT, 2, fast));
    try (Stream<Path> s = Files.list(ours)) {
      assertThat(s).isEmpty();
    }
  }

  @Test
  void recordsSurviveARestartOfTheService() {
    Image a = images.pull(ref("test/busybox:1"), Platform.DEFAULT, PullProgress.NONE);
    ImageService again = newService(state);
    assertThat(again.list()).extracting(Image::manifestDigest).containsExactly(a.manifestDigest());
    assertThat(again.find(ref("test/busybox:1")).orElseThrow().config()).isEqualTo(a.config());
  }
}
