package dev.inferno.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.disk.DiskBuilder;
import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.ImageRef;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.Descriptor;
import dev.inferno.image.registry.Manifest;
import dev.inferno.image.registry.ManifestException;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.store.BlobStore;
import dev.inferno.image.unpack.LayerUnpacker;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.function.Predicate;

/**
 * Pulls and loads images into {@code <state>/images}: verified blobs ({@code blobs/sha256/<hex>}),
 * one read-only ext4 disk per image ({@code disks/<config-hex>.ext4}), and records in the daemon's
 * SQLite database. Concurrent pulls of the same image share one download, unpack and disk build.
 */
public final class ImageService {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final ConnectionFactory db;
  private final RegistryClient registry;
  private final BlobStore blobs;
  private final DiskBuilder disks = new DiskBuilder();
  private final LayerUnpacker.Limits limits;
  private final int parallelLayers;

  /** Per-state-dir scratch on a tmpfs, or null. */
  private final Path fastScratch;

  private final Map<Digest, CompletableFuture<Image>> inflight = new ConcurrentHashMap<>();
  private final Map<Digest, CompletableFuture<Void>> blobDownloads = new ConcurrentHashMap<>();

  /** Serialises removal against materialisation, so a blob is never collected mid-pull. */
  private final Object gcLock = new Object();

  private int activeMaterialisations;

  /**
   * Tuning.
   *
   * @param limits caps on a layer's entries and bytes
   * @param parallelLayers how many layers download at once
   * @param fastScratch a tmpfs (e.g. {@code /dev/shm}) to unpack into when it has room for the
   *     image, so the scratch tree never hits the disk; null to always unpack under the state dir
   */
  public record Options(LayerUnpacker.Limits limits, int parallelLayers, Path fastScratch) {
    public static final Options DEFAULT = new Options(LayerUnpacker.Limits.DEFAULT, 3, null);
  }

  public ImageService(Path stateDir, ConnectionFactory db, RegistryClient registry) {
    this(stateDir, db, registry, Options.DEFAULT);
  }

  public ImageService(
      Path stateDir, ConnectionFactory db, RegistryClient registry, Options options) {
    this.dir = stateDir.resolve("images");
    this.db = db;
    this.registry = registry;
    this.limits = options.limits();
    this.parallelLayers = options.parallelLayers();
    this.fastScratch =
        options.fastScratch() == null
            ? null
            : options
                .fastScratch()
                .resolve(
                    "inferno-"
                        + Digest.sha256(
                                stateDir
                                    .toAbsolutePath()
                                    .toString()
                                    .getBytes(java.nio.charset.StandardCharsets.UTF_8))
                            .shortHex());
    this.blobs = new BlobStore(dir.resolve("blobs"), dir.resolve("tmp"));
    try {
      Files.createDirectories(dir.resolve("disks"));
      Files.createDirectories(dir.resolve("roots"));
      // scratch left by a crash: unpacked roots, half-written blobs and disks
      for (String scratch : List.of("roots", "tmp")) {
        try (var leftovers = Files.list(dir.resolve(scratch))) {
          for (Path p : leftovers.toList()) {
            DiskBuilder.deleteRoot(p);
          }
        }
      }
      if (fastScratch != null) {
        DiskBuilder.deleteRoot(fastScratch);
        Files.createDirectories(fastScratch);
      }
      try (var disksDir = Files.list(dir.resolve("disks"))) {
        for (Path p : disksDir.toList()) {
          if (p.getFileName().toString().endsWith(".tmp")) {
            Files.deleteIfExists(p);
          }
        }
      }
      try (Connection c = db.open()) {
        ImageSchema.migrate(c);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    } catch (SQLException e) {
      throw new ImageException("cannot open the image tables: " + e.getMessage(), e);
    }
  }

  public BlobStore blobs() {
    return blobs;
  }

  // ---------------------------------------------------------------- pull

  /** Pulls {@code reference} for {@code platform}, reporting progress; returns the stored image. */
  public Image pull(String reference, Platform platform, PullProgress progress) {
    ImageRef ref = ImageRef.parse(reference);
    Manifest m = registry.manifest(ref, ref.manifestReference());
    List<Manifest> extra = new ArrayList<>();
    if (m instanceof Manifest.Index idx) {
      Descriptor d = idx.select(platform);
      extra.add(idx);
      m = registry.manifest(ref, d.digest().toString());
      if (!(m instanceof Manifest.Image)) {
        throw new ManifestException(
            "index entry " + d.digest() + " for " + platform + " is not an image manifest");
      }
    }
    Manifest.Image img = (Manifest.Image) m;
    progress.on(new PullEvent.Resolved(ref.toString(), img.digest(), img.layers().size()));
    BlobSource source =
        (d, onBytes) -> {
          try {
            blobs.put(d.digest(), d.size(), out -> registry.blob(ref, d, out, onBytes));
          } catch (IOException e) {
            throw new UncheckedIOException(
                "cannot store blob " + d.digest().shortHex() + ": " + e.getMessage(), e);
          }
        };
    Image image = materialise(img, extra, source, platform, progress);
    String name =
        ref.digest() != null && ref.tag() == null ? null : ref.withDigest(null).toString();
    return tag(image, name == null ? List.of() : List.of(name));
  }

  /** Where a layer's bytes come from: the registry for pulls, the store itself for loads. */
  @FunctionalInterface
  interface BlobSource {
    void fetch(Descriptor d, java.util.function.LongConsumer onBytes);
  }

  private Image materialise(
      Manifest.Image img,
      List<Manifest> extra,
      BlobSource source,
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
    synchronized (gcLock) {
      activeMaterialisations++;
    }
    try {
      Image done = doMaterialise(img, extra, source, wanted, progress);
      mine.complete(done);
      return done;
    } catch (RuntimeException | Error e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      inflight.remove(img.digest(), mine);
      synchronized (gcLock) {
        activeMaterialisations--;
      }
    }
  }

  private Image doMaterialise(
      Manifest.Image img,
      List<Manifest> extra,
      BlobSource source,
      Platform wanted,
      PullProgress progress) {
    Optional<Image> have = byManifest(img.digest());
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
      Path disk = dir.resolve("disks").resolve(img.config().digest().hex() + ".ext4");
      long size;
      try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
        // layer i unpacks as soon as it is stored, while later layers still download
        Map<Digest, CompletableFuture<Void>> downloads =
            startDownloads(img.layers(), source, progress, ex);
        if (Files.isRegularFile(disk)) {
          size = sizeForConfig(img.config().digest(), disk);
        } else {
          size = buildDisk(img, diffIds, disk, progress, downloads);
        }
        downloads.values().forEach(ImageService::await);
      }
      Set<String> keep = new java.util.TreeSet<>();
      keep.add(img.digest().toString());
      keep.add(img.config().digest().toString());
      for (Manifest x : extra) {
        keep.add(x.digest().toString());
      }
      for (Descriptor l : img.layers()) {
        keep.add(l.digest().toString());
      }
      ObjectNode cfg =
          config.path("config").isObject()
              ? (ObjectNode) config.get("config")
              : JSON.createObjectNode();
      Instant created = parseTime(config.path("created").asText(null));
      Image image =
          new Image(
              List.of(), img.digest(), img.config().digest(), platform, cfg, size, created, disk);
      insert(image, img.mediaType(), keep);
      return byManifest(img.digest()).orElseThrow();
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

  private static Instant parseTime(String s) {
    if (s == null || s.isEmpty()) {
      return null;
    }
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * Starts downloading every missing layer (at most {@code parallelLayers} at once); the returned
   * futures complete when each blob is verified and stored. A blob another pull is already fetching
   * is waited for, not fetched again.
   */
  private Map<Digest, CompletableFuture<Void>> startDownloads(
      List<Descriptor> layers, BlobSource source, PullProgress progress, ExecutorService ex) {
    Semaphore slots = new Semaphore(parallelLayers);
    Map<Digest, CompletableFuture<Void>> out = new LinkedHashMap<>();
    for (Descriptor l : layers) {
      if (out.containsKey(l.digest())) {
        continue; // the same layer twice in one image
      }
      if (blobs.has(l.digest())) {
        progress.on(
            new PullEvent.Layer(l.digest(), PullEvent.Phase.ALREADY_EXISTS, l.size(), l.size()));
        out.put(l.digest(), CompletableFuture.completedFuture(null));
        continue;
      }
      progress.on(new PullEvent.Layer(l.digest(), PullEvent.Phase.WAITING, 0, l.size()));
      CompletableFuture<Void> mine = new CompletableFuture<>();
      CompletableFuture<Void> theirs = blobDownloads.putIfAbsent(l.digest(), mine);
      if (theirs != null) {
        out.put(l.digest(), theirs);
        continue;
      }
      out.put(l.digest(), mine);
      ex.execute(() -> {
        slots.acquireUninterruptibly();
        try {
          long[] last = {0};
          source.fetch(
              l,
              done -> {
                if (done - last[0] >= (512 << 10) || done == l.size()) {
                  last[0] = done;
                  progress.on(
                      new PullEvent.Layer(l.digest(), PullEvent.Phase.DOWNLOADING, done, l.size()));
                }
              });
          progress.on(
              new PullEvent.Layer(l.digest(), PullEvent.Phase.DOWNLOADED, l.size(), l.size()));
          mine.complete(null);
        } catch (Throwable t) {
          mine.completeExceptionally(t);
        } finally {
          blobDownloads.remove(l.digest(), mine);
          slots.release();
        }
      });
    }
    return out;
  }

  private static void await(CompletableFuture<Void> f) {
    try {
      f.join();
    } catch (CompletionException e) {
      Throwable c = e.getCause();
      throw c instanceof RuntimeException re
          ? re
          : new ImageException("layer download failed: " + c.getMessage(), c);
    }
  }

  private long buildDisk(
      Manifest.Image img,
      List<Digest> diffIds,
      Path disk,
      PullProgress progress,
      Map<Digest, CompletableFuture<Void>> downloads)
      throws IOException {
    Path root = scratchFor(img).resolve(img.config().digest().hex() + "-" + UUID.randomUUID());
    Files.createDirectory(root);
    try {
      LayerUnpacker unpacker = new LayerUnpacker(root, limits);
      for (int i = 0; i < img.layers().size(); i++) {
        Descriptor l = img.layers().get(i);
        await(downloads.get(l.digest()));
        progress.on(new PullEvent.Layer(l.digest(), PullEvent.Phase.EXTRACTING, 0, l.size()));
        try (InputStream in = blobs.open(l.digest())) {
          unpacker.apply(in, diffIds.get(i));
        }
        progress.on(new PullEvent.Layer(l.digest(), PullEvent.Phase.EXTRACTED, l.size(), l.size()));
      }
      progress.on(new PullEvent.Status("Building image disk"));
      return disks.build(root, disk, "inferno-image").bytes();
    } finally {
      discard(root);
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
    return dir.resolve("roots");
  }

  /** Deletes a scratch root in the background: the pull need not wait for 10⁴ unlinks. */
  private static void discard(Path root) {
    Thread.ofVirtual()
        .name("discard-" + root.getFileName())
        .start(() -> {
          try {
            DiskBuilder.deleteRoot(root);
          } catch (IOException e) {
            System.getLogger(ImageService.class.getName())
                .log(System.Logger.Level.WARNING, "cannot delete " + root + ": " + e);
          }
        });
  }

  // ---------------------------------------------------------------- records

  /** Content size of an existing disk, from the image that built it. */
  private long sizeForConfig(Digest config, Path disk) throws IOException {
    try (Connection c = db.open();
        PreparedStatement ps =
            c.prepareStatement("SELECT size FROM images WHERE config_digest = ?")) {
      ps.setString(1, config.toString());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : Files.size(disk);
      }
    } catch (SQLException e) {
      throw new ImageException("cannot read image records: " + e.getMessage(), e);
    }
  }

  private Image tag(Image image, List<String> refs) {
    try (Connection c = db.open()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO image_refs(reference, manifest_digest) VALUES(?, ?)"
                  + " ON CONFLICT(reference) DO UPDATE SET manifest_digest = excluded.manifest_digest")) {
        for (String r : refs) {
          ps.setString(1, r);
          ps.setString(2, image.manifestDigest().toString());
          ps.executeUpdate();
        }
      }
    } catch (SQLException e) {
      throw new ImageException("cannot record image: " + e.getMessage(), e);
    }
    return byManifest(image.manifestDigest()).orElseThrow();
  }

  private void insert(Image image, String mediaType, Set<String> keep) {
    ArrayNode arr = JSON.createArrayNode();
    keep.forEach(arr::add);
    try (Connection c = db.open();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT OR REPLACE INTO images(manifest_digest, config_digest, media_type, platform,"
                    + " config, blobs, size, created, pulled_at, disk) VALUES(?,?,?,?,?,?,?,?,?,?)")) {
      ps.setString(1, image.manifestDigest().toString());
      ps.setString(2, image.configDigest().toString());
      ps.setString(3, mediaType);
      ps.setString(4, image.platform().toString());
      ps.setString(5, JSON.writeValueAsString(image.config()));
      ps.setString(6, JSON.writeValueAsString(arr));
      ps.setLong(7, image.size());
      ps.setString(8, image.created() == null ? null : image.created().toString());
      ps.setString(9, Instant.now().toString());
      ps.setString(10, image.disk().toString());
      ps.executeUpdate();
    } catch (SQLException | IOException e) {
      throw new ImageException("cannot record image: " + e.getMessage(), e);
    }
  }

  private static final String SELECT =
      "SELECT i.manifest_digest, i.config_digest, i.platform, i.config, i.size, i.created, i.disk,"
          + " (SELECT json_group_array(reference) FROM"
          + "   (SELECT reference FROM image_refs r WHERE r.manifest_digest = i.manifest_digest"
          + "    ORDER BY reference)) FROM images i";

  private List<Image> query(String where, String... args) {
    try (Connection c = db.open();
        PreparedStatement ps =
            c.prepareStatement(SELECT + " " + where + " ORDER BY i.pulled_at DESC")) {
      for (int i = 0; i < args.length; i++) {
        ps.setString(i + 1, args[i]);
      }
      List<Image> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          List<String> refs = new ArrayList<>();
          for (JsonNode r : JSON.readTree(rs.getString(8))) {
            refs.add(r.asText());
          }
          String created = rs.getString(6);
          out.add(
              new Image(
                  refs,
                  Digest.parse(rs.getString(1)),
                  Digest.parse(rs.getString(2)),
                  Platform.parse(rs.getString(3)),
                  (ObjectNode) JSON.readTree(rs.getString(4)),
                  rs.getLong(5),
                  created == null ? null : Instant.parse(created),
                  Path.of(rs.getString(7))));
        }
      }
      return out;
    } catch (SQLException | IOException e) {
      throw new ImageException("cannot read image records: " + e.getMessage(), e);
    }
  }

  private Optional<Image> byManifest(Digest d) {
    return query("WHERE i.manifest_digest = ?", d.toString()).stream().findFirst();
  }

  /** Every image, newest first. */
  public List<Image> list() {
    return query("");
  }

  /**
   * Finds an image by reference ({@code alpine}, {@code alpine:3.20}, {@code host/x@sha256:…}) or
   * by an unambiguous prefix of its image ID (config digest) or manifest digest.
   */
  public Optional<Image> find(String refOrId) {
    String s = refOrId.trim();
    String hex = s.startsWith("sha256:") ? s.substring(7) : s;
    if (hex.matches("[a-f0-9]{4,64}")) {
      List<Image> hits =
          query(
              "WHERE substr(i.config_digest, 8) LIKE ? OR substr(i.manifest_digest, 8) LIKE ?",
              hex + "%",
              hex + "%");
      if (hits.size() > 1) {
        throw new ImageException(
            "image id prefix "
                + s
                + " is ambiguous ("
                + hits.size()
                + " images); give more digits");
      }
      if (hits.size() == 1) {
        return Optional.of(hits.getFirst());
      }
      if (s.startsWith("sha256:")) {
        return Optional.empty();
      }
    }
    ImageRef ref;
    try {
      ref = ImageRef.parse(s);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (ref.digest() != null) {
      Optional<Image> byDigest = byManifest(ref.digest());
      if (byDigest.isPresent()) {
        return byDigest;
      }
    }
    if (ref.tag() == null) {
      return Optional.empty();
    }
    return query(
            "WHERE i.manifest_digest = (SELECT manifest_digest FROM image_refs WHERE reference = ?)",
            ref.withDigest(null).toString())
        .stream()
        .findFirst();
  }

  /** What {@link #remove} did. */
  public record Removed(List<String> untagged, List<Digest> deleted) {}

  /**
   * Removes a reference (the image itself once nothing names it), or by ID the image and all its
   * references; then collects blobs and disks no image keeps. An image for which {@code inUse}
   * answers true is never deleted: {@link ImageException.InUse} and nothing changes.
   */
  public Removed remove(String refOrId, Predicate<Image> inUse) {
    Image image =
        find(refOrId)
            .orElseThrow(() ->
                new ImageException.NotFound("no such image: " + refOrId + " (see inferno images)"));
    String asRef = null;
    try {
      ImageRef r = ImageRef.parse(refOrId.trim());
      if (r.tag() != null && image.references().contains(r.withDigest(null).toString())) {
        asRef = r.withDigest(null).toString();
      }
    } catch (IllegalArgumentException notARef) {
      // an id
    }
    List<String> untag = asRef != null ? List.of(asRef) : image.references();
    boolean deleteImage = untag.size() == image.references().size();
    synchronized (gcLock) {
      if (deleteImage && inUse.test(image)) {
        throw new ImageException.InUse(
            "image " + refOrId + " (" + image.id() + ") is used by a VM; remove the VM first");
      }
      try (Connection c = db.open()) {
        c.setAutoCommit(false);
        try (PreparedStatement ps =
            c.prepareStatement("DELETE FROM image_refs WHERE reference = ?")) {
          for (String r : untag) {
            ps.setString(1, r);
            ps.executeUpdate();
          }
        }
        if (deleteImage) {
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM images WHERE manifest_digest = ?")) {
            ps.setString(1, image.manifestDigest().toString());
            ps.executeUpdate();
          }
        }
        c.commit();
      } catch (SQLException e) {
        throw new ImageException("cannot remove image record: " + e.getMessage(), e);
      }
      if (deleteImage && activeMaterialisations == 0) {
        collectGarbage();
      }
    }
    return new Removed(untag, deleteImage ? List.of(image.manifestDigest()) : List.of());
  }

  /** Deletes blobs and disks that no image record keeps. */
  private void collectGarbage() {
    Set<Digest> keep = new HashSet<>();
    Set<Path> keepDisks = new HashSet<>();
    try (Connection c = db.open();
        PreparedStatement ps = c.prepareStatement("SELECT blobs, disk FROM images");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        for (JsonNode d : JSON.readTree(rs.getString(1))) {
          keep.add(Digest.parse(d.asText()));
        }
        keepDisks.add(Path.of(rs.getString(2)));
      }
      blobs.retainOnly(keep);
      try (var s = Files.list(dir.resolve("disks"))) {
        for (Path p : s.toList()) {
          if (!keepDisks.contains(p)) {
            Files.deleteIfExists(p);
          }
        }
      }
    } catch (SQLException | IOException e) {
      throw new ImageException("cannot collect unused image data: " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- load

  /**
   * Loads images from an OCI image layout (directory or tar) or a {@code docker save} archive;
   * every blob is verified against its digest. Returns the images loaded.
   */
  public List<Image> load(Path source, Platform platform, PullProgress progress) {
    try {
      if (Files.isDirectory(source)) {
        return LocalImages.load(this, source, platform, progress);
      }
      Path tmp = dir.resolve("tmp").resolve("load-" + UUID.randomUUID());
      Files.createDirectories(tmp);
      try {
        try (InputStream in = Files.newInputStream(source)) {
          new LayerUnpacker(tmp, limits).apply(in);
        }
        return LocalImages.load(this, tmp, platform, progress);
      } finally {
        DiskBuilder.deleteRoot(tmp);
      }
    } catch (IOException e) {
      throw new ImageException("cannot load " + source + ": " + e.getMessage(), e);
    }
  }

  /**
   * Loads from a stream (the body of {@code inferno load}): spooled to a scratch file first, since
   * a {@code docker save} archive may list its manifest after the layers.
   */
  public List<Image> load(InputStream archive, Platform platform, PullProgress progress) {
    Path spool = dir.resolve("tmp").resolve("upload-" + UUID.randomUUID() + ".tar");
    try {
      try (var out = Files.newOutputStream(spool)) {
        archive.transferTo(out);
      }
      return load(spool, platform, progress);
    } catch (IOException e) {
      throw new ImageException("cannot receive the archive: " + e.getMessage(), e);
    } finally {
      try {
        Files.deleteIfExists(spool);
      } catch (IOException ignored) {
        // scratch; cleaned at the next start
      }
    }
  }

  /** Used by {@link LocalImages}: materialise a manifest whose blobs are already in the store. */
  Image materialiseLocal(
      Manifest.Image img,
      List<Manifest> extra,
      List<String> refs,
      Platform platform,
      PullProgress progress) {
    BlobSource fromStore =
        (d, onBytes) -> {
          throw new ImageException(
              "the archive lacks blob " + d.digest() + " that its manifest needs");
        };
    Image image = materialise(img, extra, fromStore, platform, progress);
    return tag(image, refs);
  }
}
