package dev.inferno.image.bench;

import dev.inferno.image.Image;
import dev.inferno.image.ImageService;
import dev.inferno.image.PullProgress;
import dev.inferno.image.disk.DiskBuilder;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.testing.LocalRegistry;
import dev.inferno.image.testing.OciLayout;
import dev.inferno.image.testing.Proc;
import dev.inferno.image.testing.TestDatabase;
import dev.inferno.image.testing.TestImages;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Cold pull + unpack + disk of a Debian rootfs image from the local docker-registry, against the
 * standard toolchain (skopeo copy + umoci unpack + mke2fs -d) in the same run; then warm pulls. Run
 * by {@code bench/image/run.sh}; prints Markdown.
 */
public final class PullBench {
  private PullBench() {}

  public static void main(String[] args) throws Exception {
    Path rootfs = Path.of(args[0]);
    Path work = Path.of(args[1]);
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    dev.inferno.sys.FileTrees.delete(work);
    Files.createDirectories(work);
    Path tar = work.resolve("layer.tar");
    Proc.run(
        "tar", "--numeric-owner", "--xattrs", "-C", rootfs.toString(), "-cf", tar.toString(), ".");
    OciLayout layout = new OciLayout(work.resolve("layout"));
    OciLayout.FileLayer layer = layout.gzipLayer(tar);
    Files.delete(tar);
    layout.tag(
        "bench", layout.image(List.of(layer), "amd64", TestImages.config("/bin/bash"), true));
    long compressed = layer.descriptor().get("size").asLong();

    try (LocalRegistry registry =
        LocalRegistry.start(work.resolve("registry"), LocalRegistry.Auth.NONE)) {
      registry.push(layout.dir(), "bench", "debian");
      String ref = registry.hostPort() + "/debian:bench";
      List<Long> toolchain = new ArrayList<>();
      List<Long> onDisk = new ArrayList<>();
      List<Long> onTmpfs = new ArrayList<>();
      long[] mem = new long[2]; // peak heap, peak RSS kB
      long contentBytes = 0;
      for (int round = 0; round < rounds; round++) {
        toolchain.add(toolchain(work, ref));
        onDisk.add(inferno(work, ref, null, mem));
        onTmpfs.add(inferno(work, ref, Path.of("/dev/shm"), mem));
      }
      // warm: the image is present; a pull checks the registry's manifest and finds everything
      ImageService images =
          new ImageService(
              work.resolve("state"),
              TestDatabase.migrated(work.resolve("state/inferno.db")),
              new RegistryClient(CredentialSource.NONE, Set.of()));
      contentBytes = images.list().getFirst().size();
      List<Long> warm = new ArrayList<>();
      for (int i = 0; i < 21; i++) {
        long t = System.nanoTime();
        images.pull(ref, Platform.DEFAULT, PullProgress.NONE);
        warm.add(System.nanoTime() - t);
      }
      Collections.sort(warm);
      System.out.printf(Locale.ROOT, "## Image pull benchmark (%s)%n%n", java.time.LocalDate.now());
      System.out.printf(
          Locale.ROOT,
          "Debian rootfs from `%s`: %.0f MB of file content, one gzip layer of %.0f MB, local"
              + " docker-registry over HTTP.%n%n",
          rootfs,
          contentBytes / 1e6,
          compressed / 1e6);
      System.out.println(
          "| round | skopeo copy + umoci unpack + mke2fs -d | inferno, scratch on disk | ratio |"
              + " inferno, scratch on tmpfs | ratio |");
      System.out.println("|---|---|---|---|---|---|");
      for (int i = 0; i < rounds; i++) {
        System.out.printf(
            Locale.ROOT,
            "| %d | %.2f s | %.2f s | %.2f | %.2f s | %.2f |%n",
            i + 1,
            toolchain.get(i) / 1e9,
            onDisk.get(i) / 1e9,
            (double) onDisk.get(i) / toolchain.get(i),
            onTmpfs.get(i) / 1e9,
            (double) onTmpfs.get(i) / toolchain.get(i));
      }
      System.out.printf(
          Locale.ROOT,
          "%nWarm pull (image present; manifest GET + record lookup), median of 21: %.1f ms (min"
              + " %.1f, max %.1f).%n",
          warm.get(10) / 1e6,
          warm.getFirst() / 1e6,
          warm.getLast() / 1e6);
      System.out.printf(
          Locale.ROOT,
          "Peak heap during a cold pull: %.0f MB; peak RSS of the JVM (VmHWM): %.0f MB (max heap"
              + " %d MB).%n",
          mem[0] / 1e6,
          mem[1] / 1e3,
          Runtime.getRuntime().maxMemory() >> 20);
    }
  }

  /** skopeo copy + umoci unpack + mke2fs -d; nanoseconds. */
  private static long toolchain(Path work, String ref) throws Exception {
    Path tc = work.resolve("toolchain");
    dev.inferno.sys.FileTrees.delete(tc);
    Files.createDirectories(tc);
    long t0 = System.nanoTime();
    Proc.run(
        "skopeo",
        "copy",
        "-q",
        "--src-tls-verify=false",
        "docker://" + ref,
        "oci:" + tc.resolve("oci") + ":bench");
    Proc.run(
        "umoci",
        "unpack",
        "--image",
        tc.resolve("oci") + ":bench",
        tc.resolve("bundle").toString());
    DiskBuilder.Usage u = DiskBuilder.measure(tc.resolve("bundle/rootfs"));
    long size = (u.blocks() * 4096 * 12 / 10 + u.files() * 256 + (64L << 20)) / 1024;
    Proc.run(
        "mke2fs",
        "-q",
        "-F",
        "-t",
        "ext4",
        "-d",
        tc.resolve("bundle/rootfs").toString(),
        tc.resolve("disk.ext4").toString(),
        size + "k");
    long took = System.nanoTime() - t0;
    dev.inferno.sys.FileTrees.delete(tc);
    return took;
  }

  /** A cold inferno pull into a fresh state dir; prints its phases on stderr; nanoseconds. */
  private static long inferno(Path work, String ref, Path scratch, long[] mem) throws Exception {
    Path state = work.resolve("state");
    dev.inferno.sys.FileTrees.delete(state);
    Files.createDirectories(state);
    ImageService images =
        new ImageService(
            state,
            TestDatabase.migrated(state.resolve("inferno.db")),
            new RegistryClient(CredentialSource.NONE, Set.of()),
            new ImageService.Options(
                dev.inferno.image.unpack.LayerUnpacker.Limits.DEFAULT, 3, scratch));
    System.gc();
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      p.resetPeakUsage();
    }
    long t1 = System.nanoTime();
    List<String> phases = Collections.synchronizedList(new ArrayList<>());
    Image image =
        images.pull(
            ref,
            Platform.DEFAULT,
            e -> {
              if (!(e instanceof dev.inferno.image.PullEvent.Layer l
                  && l.phase() == dev.inferno.image.PullEvent.Phase.DOWNLOADING)) {
                phases.add(
                    String.format(
                        Locale.ROOT, "%6.2f s  %s", (System.nanoTime() - t1) / 1e9, e.line()));
              }
            });
    long took = System.nanoTime() - t1;
    phases.add(
        String.format(
            Locale.ROOT,
            "%6.2f s  done (scratch %s, %d bytes)",
            took / 1e9,
            scratch == null ? "state dir" : scratch,
            image.size()));
    System.err.println(String.join("\n", phases));
    long h = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        h += p.getPeakUsage().getUsed();
      }
    }
    mem[0] = Math.max(mem[0], h);
    mem[1] = Math.max(mem[1], vmHwmKb());
    Thread.sleep(3000); // let the background discard of the scratch root finish
    return took;
  }

  private static long vmHwmKb() throws java.io.IOException {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith("VmHWM:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return 0;
  }
}
