package dev.inferno.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.Descriptor;
import dev.inferno.image.registry.Manifest;
import dev.inferno.image.registry.ManifestException;
import dev.inferno.image.store.BlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Turns an image manifest into a stored image, for pulls and loads alike: stores the manifests,
 * checks the config (platform, one diff_id per layer), fetches the missing layers, builds the disk
 * and records the image. Concurrent requests for the same manifest share one materialisation.
 */
final class Materialiser {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final BlobStore blobs;
  private final ImageRecords records;
  private final ImageDisks disks;
  private final LayerFetcher layers;
  private final GarbageCollector gc;
  private final Map<Digest, CompletableFuture<Image>> inflight = new ConcurrentHashMap<>();

  Materialiser(
      BlobStore blobs,
      ImageRecords records,
      ImageDisks disks,
      LayerFetcher layers,
      GarbageCollector gc) {
    this.blobs = blobs;
    this.records = records;
    this.disks = disks;
    this.layers = layers;
    this.gc = gc;
  }

  /**
   * Materialises {@code img} (with the index it was chosen from, if any, in {@code extra}) and
   * names it by {@code refs}.
   */
  Image materialise(
      Manifest.Image img,
      List<Manifest> extra,
      LayerFetcher.BlobSource source,
      Platform wanted,
      List<String> refs,
      PullProgress progress) {
    Image image = shared(img, extra, source, wanted, progress);
    records.tag(image.manifestDigest(), refs);
    return records.byManifest(image.manifestDigest()).orElseThrow();
  }

  private Image shared(
      Manifest.Image img,
      List<Manifest> extra,
      LayerFetcher.BlobSource source,
      Platform wanted,
      PullProgress progress) {
    CompletableFuture<Image> mine = new CompletableFuture<>();
    CompletableFuture<Image> theirs = inflight.putIfAbsent(img.digest(), mine);
    if (theirs != null) {
      progress.on(
          new PullEvent.Status("Waiting for a concurrent pull of " + img.digest().shortHex()));
      try {
        return theirs.join();
      } catch (CompletionException e) {
        throw e.getCause() instanceof RuntimeException re ? re : e;
      }
    }
    gc.beginUse();
    try {
      Image done = build(img, extra, source, wanted, progress);
      mine.complete(done);
      return done;
    } catch (RuntimeException | Error e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      inflight.remove(img.digest(), mine);
      gc.endUse();
    }
  }

  private Image build(
      Manifest.Image img,
      List<Manifest> extra,
      LayerFetcher.BlobSource source,
      Platform wanted,
      PullProgress progress) {
    Optional<Image> have = records.byManifest(img.digest());
    if (have.isPresent() && Files.isRegularFile(have.get().disk())) {
      for (Descriptor l : img.layers()) {
        progress.on(
            new PullEvent.Layer(l.digest(), PullEvent.Phase.ALREADY_EXISTS, l.size(), l.size()));
      }
      return have.get();
    }
    try {
      blobs.put(img.digest(), img.bytes());
      for (Manifest x : extra) {
        blobs.put(x.digest(), x.bytes());
      }
      if (!blobs.has(img.config().digest())) {
        source.fetch(img.config(), n -> {});
      }
      JsonNode config = JSON.readTree(blobs.read(img.config().digest()));
      Platform platform = platformOf(config, wanted);
      if (!platform.os().equals(wanted.os())
          || !platform.architecture().equals(wanted.architecture())) {
        throw new ManifestException(
            "image is for "
                + platform
                + ", not "
                + wanted
                + " (pass --platform "
                + platform
                + " to use it anyway)");
      }
      List<Digest> diffIds = new ArrayList<>();
      for (JsonNode d : config.path("rootfs").path("diff_ids")) {
        diffIds.add(Digest.parse(d.asText()));
      }
      if (diffIds.size() != img.layers().size()) {
        throw new ManifestException(
            "image config lists "
                + diffIds.size()
                + " diff_ids for "
                + img.layers().size()
                + " layers; the image is malformed");
      }
      Path disk = disks.diskFor(img.config().digest());
      long size;
      try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
        // layer i unpacks as soon as it is stored, while later layers still download
        Map<Digest, CompletableFuture<Void>> downloads =
            layers.start(img.layers(), source, progress, ex);
        if (Files.isRegularFile(disk)) {
          // another manifest with the same config built it
          size = records.sizeForConfig(img.config().digest()).orElse(Files.size(disk));
        } else {
          size = disks.build(img, diffIds, progress, downloads::get);
        }
        downloads.values().forEach(LayerFetcher::await);
      }
      Set<Digest> keep = new HashSet<>();
      keep.add(img.digest());
      keep.add(img.config().digest());
      for (Manifest x : extra) {
        keep.add(x.digest());
      }
      for (Descriptor l : img.layers()) {
        keep.add(l.digest());
      }
      ObjectNode cfg =
          config.path("config").isObject()
              ? (ObjectNode) config.get("config")
              : JSON.createObjectNode();
      Instant created = parseTime(config.path("created").asText(null));
      Image image =
          new Image(
              List.of(), img.digest(), img.config().digest(), platform, cfg, size, created, disk);
      records.insert(image, img.mediaType(), keep);
      return records.byManifest(img.digest()).orElseThrow();
    } catch (IOException e) {
      throw new ImageException("pull failed: " + e.getMessage(), e);
    }
  }

  private static Platform platformOf(JsonNode config, Platform wanted) {
    String os = config.path("os").asText("");
    String arch = config.path("architecture").asText("");
    if (os.isEmpty() || arch.isEmpty()) {
      return wanted; // some hand-made images omit them
    }
    return new Platform(os, arch, config.path("variant").asText(null));
  }

  /** A config's timestamp, or null when missing or unreadable (never worth failing for). */
  static Instant parseTime(String s) {
    if (s == null || s.isEmpty()) {
      return null;
    }
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
