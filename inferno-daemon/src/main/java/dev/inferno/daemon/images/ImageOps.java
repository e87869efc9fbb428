package dev.inferno.daemon.images;

import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.EventBus;
import dev.inferno.daemon.vm.References;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.model.ImageSummary;
import java.io.InputStream;
import java.sql.SQLException;
import java.util.List;

/** The image routes' logic: the backend plus the daemon's rule that images in use stay. */
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

  public List<ImageSummary> list() {
    try {
      return images.list().stream().map(ImageOps::summary).toList();
    } catch (BackendException e) {
      throw VmService.fromBackend(e);
    }
  }

  public ImageSummary inspect(String ref) {
    return summary(find(ref));
  }

  private ImageInfo find(String ref) {
    if (ref == null || ref.isBlank()) {
      throw ApiException.badRequest("no image reference given (ref=…)");
    }
    try {
      var found = images.find(ref);
      if (found.isEmpty() && !ref.startsWith("sha256:")) {
        validate(ref); // a malformed reference is the client's error (400), not a missing image
      }
      return found.orElseThrow(() -> ApiException.notFound("no such image: " + ref));
    } catch (BackendException e) {
      throw VmService.fromBackend(e);
    }
  }

  /** Validates a reference before a pull starts streaming, so a bad one gets a plain 400. */
  public static void validate(String ref) {
    if (ref == null || ref.isBlank()) {
      throw ApiException.badRequest("no image reference given");
    }
    try {
      References.normalize(ref);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
  }

  public ImageSummary pull(String ref, String platform, ImageBackend.ProgressListener progress) {
    validate(ref);
    try {
      ImageInfo img = images.pull(ref, platform, progress);
      events.publish("pulled", img.reference(), null, null);
      return summary(img);
    } catch (BackendException e) {
      throw VmService.fromBackend(e);
    }
  }

  public List<ImageSummary> load(InputStream tar, ImageBackend.ProgressListener progress) {
    try {
      List<ImageSummary> loaded =
          images.load(tar, progress).stream().map(ImageOps::summary).toList();
      for (ImageSummary s : loaded) {
        events.publish("loaded", s.reference(), null, null);
      }
      return loaded;
    } catch (BackendException e) {
      throw VmService.fromBackend(e);
    }
  }

  /** Removes an image unless VMs use it: never while one runs; exited ones need force. */
  public ImageSummary remove(String ref, boolean force) throws SQLException {
    ImageInfo img = find(ref);
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
    try {
      images.remove(img.reference());
    } catch (BackendException e) {
      throw VmService.fromBackend(e);
    }
    events.publish("image-removed", img.reference(), null, null);
    return summary(img);
  }

  public int count() {
    try {
      return images.list().size();
    } catch (BackendException e) {
      return -1;
    }
  }
}
