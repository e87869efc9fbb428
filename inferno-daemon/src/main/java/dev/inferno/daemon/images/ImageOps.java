package dev.inferno.daemon.images;

import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.EventBus;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.image.ref.ImageRef;
import dev.inferno.model.AuthRequest;
import dev.inferno.model.AuthResult;
import dev.inferno.model.ImageHistoryEntry;
import dev.inferno.model.ImageSummary;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The image routes' logic: the backend plus the daemon's rule that images in use stay. The image
 * side's {@link BackendException}s pass through to the API, which maps them to a status.
 */
public final class ImageOps {
  private final ImageBackend images;
  private final VmService vms;
  private final EventBus events;

  public ImageOps(ImageBackend images, VmService vms, EventBus events) {
    this.images = images;
    this.vms = vms;
    this.events = events;
  }

  public static ImageSummary summary(ImageInfo i) {
    return new ImageSummary(
        i.reference(), i.configDigest(), i.manifestDigest(), i.sizeBytes(), i.createdAt());
  }

  /** One entry per name, as docker images lists them; an image without a name once. */
  public List<ImageSummary> list() {
    return images.list().stream()
        .flatMap(i ->
            i.references().isEmpty()
                ? java.util.stream.Stream.of(summary(i))
                : i.references().stream().map(r -> summary(i.withReferences(List.of(r)))))
        .toList();
  }

  public ImageSummary inspect(String ref) {
    return summary(find(ref));
  }

  private ImageInfo find(String ref) {
    if (ref == null || ref.isBlank()) {
      throw ApiException.badRequest("no image reference given (ref=…)");
    }
    var found = images.find(ref);
    if (found.isEmpty() && !ref.startsWith("sha256:")) {
      validate(ref); // a malformed reference is the client's error (400), not a missing image
    }
    return found.orElseThrow(() -> ApiException.notFound("no such image: " + ref));
  }

  /** Validates a reference before a pull starts streaming, so a bad one gets a plain 400. */
  public static void validate(String ref) {
    if (ref == null || ref.isBlank()) {
      throw ApiException.badRequest("no image reference given");
    }
    try {
      ImageRef.parse(ref);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
  }

  public ImageSummary pull(String ref, String platform, ImageBackend.ProgressListener progress) {
    validate(ref);
    ImageInfo img = images.pull(ref, platform, progress);
    events.publish("pulled", img.reference(), null, null);
    return summary(img);
  }

  public List<ImageSummary> load(InputStream tar, ImageBackend.ProgressListener progress) {
    List<ImageSummary> loaded = images.load(tar, progress).stream().map(ImageOps::summary).toList();
    for (ImageSummary s : loaded) {
      events.publish("loaded", s.reference(), null, null);
    }
    return loaded;
  }

  /**
   * Writes a tar of the images {@code refs} name ({@code docker save}'s layout) to {@code out}: 400
   * without a name, 404 "no such image: REF" for an unknown one, both before any byte.
   */
  public void save(List<String> refs, OutputStream out) throws IOException {
    if (refs.isEmpty()) {
      throw ApiException.badRequest("no image reference given (ref=…)");
    }
    refs.forEach(this::find);
    images.save(refs, out);
  }

  /**
   * Removes {@code ref}; the answer's reference is the name that came off. A name of an image that
   * has other names only comes off it, as docker untags (VMs made from the image keep it);
   * otherwise the image goes, unless VMs use it: never while one runs; exited ones need force.
   */
  public ImageSummary remove(String ref, boolean force) {
    ImageInfo img = find(ref);
    if (untagsOnly(img, ref)) {
      images.remove(ref);
      String name = normalized(ref);
      events.publish("untagged", name, null, null);
      // the answer names what came off: that name, not the image's first
      return new ImageSummary(
          name, img.configDigest(), img.manifestDigest(), img.sizeBytes(), img.createdAt());
    }
    List<String> running = vms.usersOf(img.manifestDigest(), true);
    if (!running.isEmpty()) {
      throw ApiException.conflict(
          "image "
              + img.reference()
              + " is in use by running VM(s) "
              + String.join(", ", running)
              + ": stop and remove them first");
    }
    List<String> users = vms.usersOf(img.manifestDigest(), false);
    if (!users.isEmpty() && !force) {
      throw ApiException.conflict(
          "image "
              + img.reference()
              + " is used by VM(s) "
              + String.join(", ", users)
              + ": remove them first, or use -f");
    }
    images.remove(ref);
    events.publish("image-removed", img.reference(), null, null);
    return summary(img);
  }

  /** Whether removing {@code ref} takes one of the image's several names off it, and only that. */
  public static boolean untagsOnly(ImageInfo img, String ref) {
    String name = normalized(ref);
    return name != null && img.references().size() > 1 && img.references().contains(name);
  }

  /** The reference {@code ref} names as the store records it, or null (an id, a digest). */
  private static String normalized(String ref) {
    try {
      ImageRef r = ImageRef.parse(ref.trim());
      return r.digest() == null ? r.toString() : null;
    } catch (IllegalArgumentException anId) {
      return null;
    }
  }

  /**
   * Names the image {@code source} finds by {@code target} too: 404 "no such image: SOURCE", 400
   * for a target that is no reference or holds a digest. A name another image had moves.
   */
  public ImageSummary tag(String source, String target) {
    if (target == null || target.isBlank()) {
      throw ApiException.badRequest("no target reference given (target=…)");
    }
    find(source);
    validate(target);
    ImageInfo img = images.tag(source, target);
    events.publish("tagged", normalized(target), null, null);
    return summary(img);
  }

  /**
   * The build steps of the image {@code ref} finds, newest first: the newest carries the image's id
   * and names, as {@code docker history} shows them.
   */
  public List<ImageHistoryEntry> history(String ref) {
    ImageInfo img = find(ref);
    List<ImageHistoryEntry> steps = new ArrayList<>(images.history(ref));
    Collections.reverse(steps);
    if (!steps.isEmpty()) {
      ImageHistoryEntry top = steps.getFirst();
      steps.set(
          0,
          new ImageHistoryEntry(
              img.configDigest(),
              top.createdAt(),
              top.createdBy(),
              img.references(),
              top.sizeBytes(),
              top.comment()));
    }
    return steps;
  }

  /** Checks credentials against a registry and keeps them; the answer names the registry. */
  public AuthResult login(AuthRequest req) {
    if (req == null || req.username() == null || req.username().isBlank()) {
      throw ApiException.badRequest("no user name given");
    }
    if (req.password() == null || req.password().isEmpty()) {
      throw ApiException.badRequest("no password given");
    }
    String domain = checkServer(req.server());
    return new AuthResult(images.login(domain, req.username(), req.password()), "Login Succeeded");
  }

  /** Forgets the credentials kept for a registry. */
  public AuthResult logout(String server) {
    String domain = checkServer(server);
    return new AuthResult(domain, images.logout(domain) ? "Removed" : "Not logged in");
  }

  private static String checkServer(String server) {
    String domain = ImageBackend.registryDomain(server);
    if (!domain.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?|\\[[0-9a-fA-F:.]+\\](:[0-9]{1,5})?")) {
      throw ApiException.badRequest(
          "invalid registry '" + server + "': give host[:port], e.g. docker.io or 127.0.0.1:5000");
    }
    return domain;
  }

  // --- the Docker API shows an image's whole config and its users ---

  /** The stored image {@code ref} names, config and all: 404 "no such image" when none. */
  public ImageInfo details(String ref) {
    return find(ref);
  }

  /** Every stored image, config and all. */
  public List<ImageInfo> all() {
    return images.list();
  }

  /** What the stored images take on disk: the blocks their blobs and disks allocate. */
  public ImageUsage usage() {
    return ImageUsage.measure(images.files());
  }

  /** The VMs (any state) made from {@code img}. */
  public List<String> users(ImageInfo img, boolean runningOnly) {
    return vms.usersOf(img.manifestDigest(), runningOnly);
  }

  public int count() {
    try {
      return images.list().size();
    } catch (BackendException e) {
      return -1;
    }
  }
}
