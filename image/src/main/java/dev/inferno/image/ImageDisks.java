package dev.inferno.image;

import dev.inferno.image.disk.DiskBuilder;
import dev.inferno.image.ref.Digest;
import dev.inferno.image.registry.Descriptor;
import dev.inferno.image.registry.Manifest;
import dev.inferno.image.store.BlobStore;
import dev.inferno.image.unpack.LayerUnpacker;
import dev.inferno.sys.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * The image disks ({@code images/disks/<config-hex>.ext4}) and the scratch they are built in: the
 * layers unpack in order into a fresh root (on a tmpfs when it has room, else {@code
 * images/roots}), which {@code mke2fs -d} turns into the disk.
 */
final class ImageDisks {
  private final Path disks;
  private final Path roots;
  private final BlobStore blobs;
  private final LayerUnpacker.Limits limits;
  private final DiskBuilder builder = new DiskBuilder();

  /** Per-state-dir scratch on a tmpfs, or null. */
  private final Path fastScratch;

  /**
   * Creates the directories and deletes what a crash left: unpacked roots, half-written blobs and
   * disks.
   */
  ImageDisks(
      Path imagesDir, Path stateDir, BlobStore blobs, LayerUnpacker.Limits limits, Path tmpfs)
      throws IOException {
    this.disks = imagesDir.resolve("disks");
    this.roots = imagesDir.resolve("roots");
    this.blobs = blobs;
    this.limits = limits;
    // one scratch dir per state dir, so two daemons (or test runs) never share one
    this.fastScratch =
        tmpfs == null
            ? null
            : tmpfs.resolve(
                "inferno-"
                    + Digest.sha256(
                            stateDir.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8))
                        .shortHex());
    Files.createDirectories(disks);
    Files.createDirectories(roots);
    for (Path scratch : List.of(roots, imagesDir.resolve("tmp"))) {
      if (Files.isDirectory(scratch)) {
        try (var leftovers = Files.list(scratch)) {
          for (Path p : leftovers.toList()) {
            FileTrees.delete(p);
          }
        }
      }
    }
    if (fastScratch != null) {
      FileTrees.delete(fastScratch);
      Files.createDirectories(fastScratch);
    }
    try (var disksDir = Files.list(disks)) {
      for (Path p : disksDir.toList()) {
        if (p.getFileName().toString().endsWith(".tmp")) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Where the disk for an image with this config lives (one disk per config). */
  Path diskFor(Digest config) {
    return disks.resolve(config.hex() + ".ext4");
  }

  /**
   * Unpacks the image's layers in order, each as soon as its download completes, and builds the
   * disk; returns the bytes of file content.
   */
  long build(
      Manifest.Image img,
      List<Digest> diffIds,
      PullProgress progress,
      java.util.function.Function<Digest, CompletableFuture<Void>> downloaded)
      throws IOException {
    Path root = scratchFor(img).resolve(img.config().digest().hex() + "-" + UUID.randomUUID());
    Files.createDirectory(root);
    try {
      LayerUnpacker unpacker = new LayerUnpacker(root, limits);
      for (int i = 0; i < img.layers().size(); i++) {
        Descriptor l = img.layers().get(i);
        LayerFetcher.await(downloaded.apply(l.digest()));
        progress.on(new PullEvent.Layer(l.digest(), PullEvent.Phase.EXTRACTING, 0, l.size()));
        try (InputStream in = blobs.open(l.digest())) {
          unpacker.apply(in, diffIds.get(i));
        }
        progress.on(new PullEvent.Layer(l.digest(), PullEvent.Phase.EXTRACTED, l.size(), l.size()));
      }
      progress.on(new PullEvent.Status("Building image disk"));
      return builder.build(root, diskFor(img.config().digest()), "inferno-image").bytes();
    } finally {
      discard(root);
    }
  }

  /** Deletes every disk that is not in {@code keep}. */
  void retainOnly(Set<Path> keep) throws IOException {
    try (var s = Files.list(disks)) {
      for (Path p : s.toList()) {
        if (!keep.contains(p)) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /**
   * The tmpfs scratch when it has room for this image (guessing 4× the compressed layers, twice
   * over), else the state dir.
   */
  private Path scratchFor(Manifest.Image img) throws IOException {
    if (fastScratch != null) {
      long compressed = 0;
      for (Descriptor l : img.layers()) {
        compressed += l.size();
      }
      if (Files.getFileStore(fastScratch).getUsableSpace() > compressed * 8 + (64L << 20)) {
        return fastScratch;
      }
    }
    return roots;
  }

  /** Deletes a scratch root in the background: the pull need not wait for 10⁴ unlinks. */
  private static void discard(Path root) {
    Thread.ofVirtual()
        .name("discard-" + root.getFileName())
        .start(() -> {
          try {
            FileTrees.delete(root);
          } catch (IOException e) {
            System.getLogger(ImageDisks.class.getName())
                .log(System.Logger.Level.WARNING, "cannot delete " + root + ": " + e);
          }
        });
  }
}
