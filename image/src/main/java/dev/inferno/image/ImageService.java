package dev.inferno.image;

import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.ImageRef;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.Manifest;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.store.BlobStore;
import dev.inferno.image.unpack.LayerUnpacker;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The image module's entry point: pulls and loads images into {@code <state>/images} — verified
 * blobs ({@code blobs/sha256/<hex>}), one read-only ext4 disk per image ({@code
 * disks/<config-hex>.ext4}) — and records them in the daemon's SQLite database, whose schema the
 * caller has migrated ({@link ImageTables}). Each role is its own class: {@link ImagePuller} (pull
 * orchestration), {@link Materialiser} (manifest to stored image), {@link LayerFetcher} (parallel
 * layer downloads), {@link ImageDisks} (scratch roots and disks), {@link ImageRecords} (the SQL),
 * {@link GarbageCollector}, {@link ArchiveLoader} ({@code inferno load}), {@link ArchiveSaver}
 * ({@code inferno save}).
 */
public final class ImageService {
  private final BlobStore blobs;
  private final ImageRecords records;
  private final GarbageCollector gc;
  private final ImagePuller puller;
  private final ArchiveLoader loader;
  private final ArchiveSaver saver;

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

  /** Creates the directories and deletes the scratch a crash left behind. */
  public ImageService(
      Path stateDir, ConnectionFactory db, RegistryClient registry, Options options) {
    Path dir = stateDir.resolve("images");
    this.blobs = new BlobStore(dir.resolve("blobs"), dir.resolve("tmp"));
    this.records = new ImageRecords(db);
    ImageDisks disks;
    try {
      disks = new ImageDisks(dir, stateDir, blobs, options.limits(), options.fastScratch());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
    this.gc = new GarbageCollector(records, blobs, disks);
    Materialiser materialiser =
        new Materialiser(
            blobs, records, disks, new LayerFetcher(blobs, options.parallelLayers()), gc);
    this.puller = new ImagePuller(registry, blobs, materialiser);
    this.loader = new ArchiveLoader(blobs, materialiser, dir.resolve("tmp"), options.limits());
    this.saver = new ArchiveSaver(blobs);
  }

  public BlobStore blobs() {
    return blobs;
  }

  /** Pulls {@code reference} for {@code platform}, reporting progress; returns the stored image. */
  public Image pull(String reference, Platform platform, PullProgress progress) {
    return puller.pull(reference, platform, progress);
  }

  /**
   * Loads images from an OCI image layout (directory or tar) or a {@code docker save} archive;
   * every blob is verified against its digest. Returns the images loaded.
   */
  public List<Image> load(Path source, Platform platform, PullProgress progress) {
    return loader.load(source, platform, progress);
  }

  /**
   * Writes a tar of the images {@code refs} name to {@code out}, in the layout docker 25+ writes
   * (see {@link ArchiveSaver}), which {@link #load} and {@code docker load} read. A reference with
   * a tag saves the image under that tag; one by digest or image ID saves it untagged; several
   * names for one image share its blobs. Every name is resolved and every blob opened before the
   * first byte is written: an unknown name ({@link ImageException.NotFound}) or a missing blob
   * ({@link ImageException}) fails with {@code out} untouched.
   *
   * @throws IOException when writing to {@code out} fails (the archive is then cut short)
   */
  public void save(List<String> refs, OutputStream out) throws IOException {
    if (refs.isEmpty()) {
      throw new IllegalArgumentException("no image to save: name at least one");
    }
    Map<Digest, Image> images = new LinkedHashMap<>();
    Map<Digest, Set<ImageRef>> tags = new LinkedHashMap<>();
    for (String r : refs) {
      Image image = find(r).orElseThrow(() -> noSuchImage(r));
      images.putIfAbsent(image.manifestDigest(), image);
      Set<ImageRef> t = tags.computeIfAbsent(image.manifestDigest(), k -> new LinkedHashSet<>());
      ImageRef tag = tagNamed(r, image);
      if (tag != null) {
        t.add(tag);
      }
    }
    List<ArchiveSaver.Selected> selected = new ArrayList<>();
    images.forEach(
        (d, image) -> selected.add(new ArchiveSaver.Selected(image, List.copyOf(tags.get(d)))));
    saver.save(selected, out);
  }

  /** The tag {@code refOrId} names the image by, or null (a digest, an image ID). */
  private static ImageRef tagNamed(String refOrId, Image image) {
    try {
      ImageRef r = ImageRef.parse(refOrId.trim());
      return r.digest() == null && image.references().contains(r.toString()) ? r : null;
    } catch (IllegalArgumentException anId) {
      return null;
    }
  }

  private static ImageException.NotFound noSuchImage(String refOrId) {
    return new ImageException.NotFound("no such image: " + refOrId + " (see inferno images)");
  }

  /** Every image, newest first. */
  public List<Image> list() {
    return records.all();
  }

  /**
   * The files each image keeps on the host, by manifest digest: its blobs (manifest, config,
   * compressed layers) and its disk. Images share a layer's blob, and images of one config their
   * disk: what disk usage counts as shared.
   */
  public Map<Digest, Set<Path>> files() {
    Map<Digest, Set<Path>> out = new LinkedHashMap<>();
    records
        .keptByImage()
        .forEach((manifest, kept) -> {
          Set<Path> files = new HashSet<>(kept.disks());
          kept.blobs().forEach(b -> files.add(blobs.path(b)));
          out.put(manifest, Set.copyOf(files));
        });
    return out;
  }

  /**
   * Finds an image by reference ({@code alpine}, {@code alpine:3.20}, {@code host/x@sha256:…}) or
   * by an unambiguous prefix of its image ID (config digest) or manifest digest.
   */
  public Optional<Image> find(String refOrId) {
    String s = refOrId.trim();
    String hex = s.startsWith("sha256:") ? s.substring(7) : s;
    if (hex.matches("[a-f0-9]{4,64}")) {
      List<Image> hits = records.byDigestPrefix(hex);
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
      Optional<Image> byDigest = records.byManifest(ref.digest());
      if (byDigest.isPresent()) {
        return byDigest;
      }
    }
    if (ref.tag() == null) {
      return Optional.empty();
    }
    return records.byReference(ref.withDigest(null).toString());
  }

  /**
   * Names the image {@code source} finds ({@link #find}: a name, an image ID or a digest) by {@code
   * target} too, normalised as every reference ({@code NAME} is {@code NAME:latest}). A name that
   * pointed at another image moves, as docker moves it; that image keeps its other names, or, if it
   * had no other, stays nameless (known by ID, like an untagged image loaded from an archive) until
   * removed or pruned.
   *
   * @return the image, with its new name
   * @throws IllegalArgumentException when {@code target} is not a reference or holds a digest
   */
  public Image tag(String source, String target) {
    ImageRef ref = ImageRef.parse(target.trim());
    if (ref.digest() != null) {
      // docker's words; a digest names content, it cannot be pointed elsewhere
      throw new IllegalArgumentException("refusing to create a tag with a digest reference");
    }
    Image image = find(source).orElseThrow(() -> noSuchImage(source));
    records.tag(image.manifestDigest(), List.of(ref.toString()));
    return records.byManifest(image.manifestDigest()).orElseThrow(() -> noSuchImage(source));
  }

  /**
   * The build history of the image {@code refOrId} finds, oldest step first (see {@link
   * ImageHistory}).
   */
  public List<ImageHistory.Entry> history(String refOrId) {
    Image image = find(refOrId).orElseThrow(() -> noSuchImage(refOrId));
    try {
      Manifest m = Manifest.parse(blobs.read(image.manifestDigest()), image.manifestDigest(), null);
      if (!(m instanceof Manifest.Image img)) {
        throw new ImageException("image " + refOrId + "'s manifest is not an image manifest");
      }
      return ImageHistory.of(blobs.read(image.configDigest()), img);
    } catch (IOException e) {
      throw new ImageException("cannot read the history of " + refOrId + ": " + e.getMessage(), e);
    }
  }

  /** What {@link #remove} did. */
  public record Removed(List<String> untagged, List<Digest> deleted) {
    public Removed {
      untagged = List.copyOf(untagged);
      deleted = List.copyOf(deleted);
    }
  }

  /**
   * Removes a reference (the image itself once nothing names it), or by ID the image and all its
   * references; then collects blobs and disks no image keeps. An image for which {@code inUse}
   * answers true is never deleted: {@link ImageException.InUse} and nothing changes.
   */
  public Removed remove(String refOrId, Predicate<Image> inUse) {
    Image image = find(refOrId).orElseThrow(() -> noSuchImage(refOrId));
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
    gc.removeThenCollect(
        () -> {
          if (deleteImage && inUse.test(image)) {
            throw new ImageException.InUse(
                "image " + refOrId + " (" + image.id() + ") is used by a VM; remove the VM first");
          }
          records.remove(untag, image.manifestDigest(), deleteImage);
        },
        deleteImage);
    return new Removed(untag, deleteImage ? List.of(image.manifestDigest()) : List.of());
  }
}
