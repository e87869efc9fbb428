package dev.inferno.daemon.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.image.Image;
import dev.inferno.image.ImageException;
import dev.inferno.image.ImageService;
import dev.inferno.image.PullEvent;
import dev.inferno.image.PullProgress;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.Credentials;
import dev.inferno.image.registry.DockerConfigCredentials;
import dev.inferno.image.registry.ManifestException;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.registry.RegistryException;
import dev.inferno.image.unpack.LayerRejectedException;
import dev.inferno.model.HealthConfig;
import dev.inferno.model.ImageHistoryEntry;
import dev.inferno.sys.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/** The daemon's {@link ImageBackend} over the image module's {@link ImageService}. */
public final class ImageModuleBackend implements ImageBackend {
  private final ImageService images;
  private final Path spool;
  private final RegistryClient registry;
  private final DockerConfigCredentials logins;

  /**
   * A backend without a login store: {@link #login} and {@link #logout} fail.
   *
   * @param images the image module's service
   * @param spool where uploaded archives are written before loading (under the state dir); what a
   *     crash left there is deleted now, at the daemon's start
   */
  public ImageModuleBackend(ImageService images, Path spool) throws IOException {
    this(images, spool, null, null);
  }

  /**
   * @param registry the client {@code images} pulls through (checks logins, forgets old tokens)
   * @param logins the daemon's own credentials file, which {@code registry} also reads
   */
  public ImageModuleBackend(
      ImageService images, Path spool, RegistryClient registry, DockerConfigCredentials logins)
      throws IOException {
    this.images = images;
    this.spool = spool;
    this.registry = registry;
    this.logins = logins;
    FileTrees.delete(spool);
    Files.createDirectories(spool);
  }

  @Override
  public String login(String server, String username, String password) throws BackendException {
    String domain = ImageBackend.registryDomain(server);
    if (registry == null || logins == null) {
      throw new BackendException(
          BackendException.Kind.FAILED, "this daemon has no credentials store configured");
    }
    Credentials creds = new Credentials(username, password);
    try {
      registry.checkLogin(domain, creds);
      logins.store(domain, creds);
      registry.forget(domain);
      return domain;
    } catch (RegistryException e) {
      BackendException.Kind k =
          e.status() == 401 || e.status() == 403
              ? BackendException.Kind.UNAUTHORIZED
              : e.status() == 0 && e.getCause() instanceof IOException
                  ? BackendException.Kind.UNREACHABLE
                  : BackendException.Kind.FAILED;
      throw new BackendException(k, e.getMessage(), e);
    }
  }

  @Override
  public boolean logout(String server) throws BackendException {
    String domain = ImageBackend.registryDomain(server);
    if (registry == null || logins == null) {
      throw new BackendException(
          BackendException.Kind.FAILED, "this daemon has no credentials store configured");
    }
    try {
      boolean had = logins.erase(domain);
      registry.forget(domain);
      return had;
    } catch (RegistryException e) {
      throw new BackendException(BackendException.Kind.FAILED, e.getMessage(), e);
    }
  }

  /** The daemon's view of an image: identity, the process-relevant config, the disk. */
  public static ImageInfo info(Image i) {
    ObjectNode c = i.config();
    return new ImageInfo(
        i.references().isEmpty() ? i.manifestDigest().toString() : i.references().getFirst(),
        i.manifestDigest().toString(),
        i.configDigest().toString(),
        i.size(),
        i.created(),
        strings(c, "Entrypoint"),
        strings(c, "Cmd"),
        strings(c, "Env"),
        text(c, "WorkingDir"),
        text(c, "User"),
        text(c, "StopSignal"),
        i.disk(),
        keys(c, "ExposedPorts"),
        keys(c, "Volumes"),
        healthcheck(c),
        labels(c),
        i.platform() == null ? null : i.platform().os(),
        i.platform() == null ? null : i.platform().architecture(),
        i.references());
  }

  /** The config's Labels (string values; others are not labels). */
  private static java.util.Map<String, String> labels(ObjectNode c) {
    java.util.Map<String, String> out = new LinkedHashMap<>();
    JsonNode n = c == null ? null : c.get("Labels");
    if (n != null && n.isObject()) {
      n.fields()
          .forEachRemaining(e -> {
            if (e.getValue().isTextual()) {
              out.put(e.getKey(), e.getValue().asText());
            }
          });
    }
    return out;
  }

  /** The config's Healthcheck (Docker's shape: Test, Interval, Timeout, StartPeriod in ns). */
  private static HealthConfig healthcheck(ObjectNode c) {
    JsonNode h = c == null ? null : c.get("Healthcheck");
    if (h == null || !h.isObject()) {
      return null;
    }
    List<String> test = strings((ObjectNode) h, "Test");
    return new HealthConfig(
        test.isEmpty() ? null : test,
        nanos(h, "Interval"),
        nanos(h, "Timeout"),
        nanos(h, "StartPeriod"),
        h.hasNonNull("Retries") ? h.get("Retries").asInt() : null);
  }

  private static Long nanos(JsonNode h, String field) {
    JsonNode n = h.get(field);
    return n != null && n.canConvertToLong() && n.asLong() > 0 ? n.asLong() : null;
  }

  /** The keys of an object field ({"80/tcp": {}} is how ExposedPorts lists ports). */
  private static List<String> keys(ObjectNode c, String field) {
    List<String> out = new ArrayList<>();
    JsonNode n = c == null ? null : c.get(field);
    if (n != null && n.isObject()) {
      n.fieldNames().forEachRemaining(out::add);
    }
    return out;
  }

  private static List<String> strings(ObjectNode c, String field) {
    List<String> out = new ArrayList<>();
    JsonNode n = c == null ? null : c.get(field);
    if (n != null && n.isArray()) {
      n.forEach(e -> out.add(e.asText()));
    }
    return out;
  }

  private static String text(ObjectNode c, String field) {
    JsonNode n = c == null ? null : c.get(field);
    return n == null || n.isNull() || n.asText().isEmpty() ? null : n.asText();
  }

  @Override
  public ImageInfo pull(String reference, String platform, ProgressListener progress)
      throws BackendException {
    Platform p = platform(platform);
    return call(() -> info(images.pull(reference, p, listener(progress))));
  }

  @Override
  public List<ImageInfo> list() throws BackendException {
    return call(() -> images.list().stream().map(ImageModuleBackend::info).toList());
  }

  @Override
  public Map<String, Set<Path>> files() throws BackendException {
    return call(() -> {
      Map<String, Set<Path>> out = new LinkedHashMap<>();
      images.files().forEach((manifest, files) -> out.put(manifest.toString(), files));
      return out;
    });
  }

  @Override
  public Optional<ImageInfo> find(String reference) throws BackendException {
    return call(() -> images.find(reference).map(ImageModuleBackend::info));
  }

  @Override
  public ImageInfo tag(String source, String target) throws BackendException {
    return call(() -> info(images.tag(source, target)));
  }

  @Override
  public List<ImageHistoryEntry> history(String reference) throws BackendException {
    return call(() ->
        images.history(reference).stream()
            .map(e ->
                new ImageHistoryEntry(
                    null, e.created(), e.createdBy(), List.of(), e.size(), e.comment()))
            .toList());
  }

  @Override
  public void remove(String reference) throws BackendException {
    // the daemon has already refused images its VMs use
    call(() -> images.remove(reference, img -> false));
  }

  @Override
  public List<ImageInfo> load(InputStream tar, ProgressListener progress) throws BackendException {
    // spooled to a file first: a docker save archive may list its manifest after the layers
    Path file;
    try {
      file = Files.createTempFile(spool, "load-", ".tar");
    } catch (IOException e) {
      throw ImageBackend.io("cannot spool the archive", e);
    }
    try {
      Files.copy(tar, file, StandardCopyOption.REPLACE_EXISTING);
      return call(() ->
          images.load(file, Platform.DEFAULT, listener(progress)).stream()
              .map(ImageModuleBackend::info)
              .toList());
    } catch (IOException e) {
      throw ImageBackend.io("cannot receive the archive", e);
    } finally {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        // the spool dir is cleaned at the next start
      }
    }
  }

  @Override
  public void save(List<String> refs, OutputStream out) throws IOException {
    try {
      images.save(refs, out);
    } catch (RuntimeException e) {
      throw mapped(e);
    }
  }

  private static Platform platform(String p) throws BackendException {
    if (p == null) {
      return Platform.DEFAULT;
    }
    try {
      return Platform.parse(p);
    } catch (IllegalArgumentException e) {
      throw new BackendException(BackendException.Kind.INVALID, e.getMessage());
    }
  }

  /** Maps the module's events to Docker-style progress lines. */
  static PullProgress listener(ProgressListener p) {
    return e -> {
      switch (e) {
        case PullEvent.Resolved r ->
            p.progress("Pulling " + r.reference() + " (" + r.layers() + " layers)", null, -1, -1);
        case PullEvent.Layer l ->
            p.progress(
                switch (l.phase()) {
                  case WAITING -> "Waiting";
                  case ALREADY_EXISTS -> "Already exists";
                  case DOWNLOADING -> "Downloading";
                  case DOWNLOADED -> "Download complete";
                  case EXTRACTING -> "Extracting";
                  case EXTRACTED -> "Pull complete";
                },
                l.layer().shortHex(),
                l.done(),
                l.total());
        case PullEvent.Status s -> p.progress(s.message(), null, -1, -1);
      }
    };
  }

  private static <T> T call(Supplier<T> s) throws BackendException {
    try {
      return s.get();
    } catch (RuntimeException e) {
      throw mapped(e);
    }
  }

  /** The module's exception as the backend's kind of failure (others pass as they are). */
  private static RuntimeException mapped(RuntimeException e) {
    return switch (e) {
      case ImageException.NotFound n ->
          new BackendException(BackendException.Kind.NOT_FOUND, n.getMessage(), n);
      case ImageException.InUse u ->
          new BackendException(BackendException.Kind.CONFLICT, u.getMessage(), u);
      case RegistryException r ->
          new BackendException(
              r.status() == 404
                  ? BackendException.Kind.NOT_FOUND
                  : r.status() == 401 || r.status() == 403 || r.status() == 400
                      ? BackendException.Kind.INVALID
                      : BackendException.Kind.FAILED,
              r.getMessage(),
              r);
      case ManifestException m ->
          new BackendException(BackendException.Kind.INVALID, m.getMessage(), m);
      case LayerRejectedException l ->
          new BackendException(BackendException.Kind.INVALID, l.getMessage(), l);
      case IllegalArgumentException i ->
          new BackendException(BackendException.Kind.INVALID, i.getMessage(), i);
      case ImageException i ->
          new BackendException(BackendException.Kind.FAILED, i.getMessage(), i);
      case java.io.UncheckedIOException u ->
          new BackendException(BackendException.Kind.FAILED, u.getMessage(), u);
      default -> e;
    };
  }
}
