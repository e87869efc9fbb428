package dev.inferno.daemon.testing;

import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.image.ref.ImageRef;
import dev.inferno.model.HealthConfig;
import dev.inferno.model.ImageHistoryEntry;
import dev.inferno.model.json.Json;
import dev.inferno.model.json.JsonException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A stand-in for the image module: a "registry" of images known by reference (their config is just
 * a cmd) and a local store. Pulls report Docker-shaped progress; {@code load} takes a JSON object
 * {@code {"reference": …, "cmd": […]}} instead of a tar, and {@code save} writes one such line per
 * image.
 */
public final class MemoryImageBackend implements ImageBackend {
  private final Map<String, ImageInfo> registry = new ConcurrentHashMap<>();
  private final Map<String, ImageInfo> local = new ConcurrentHashMap<>();

  /** registry → "user:password" it accepts; logins → what login stored. */
  private final Map<String, String> accounts = new ConcurrentHashMap<>();

  private final Map<String, String> logins = new ConcurrentHashMap<>();

  /** Makes {@code registry} accept {@code user}/{@code password} at login. */
  public MemoryImageBackend account(String registry, String user, String password) {
    accounts.put(registry, user + ":" + password);
    return this;
  }

  /** The "user:password" stored for a registry by login, if any. */
  public Optional<String> storedLogin(String registry) {
    return Optional.ofNullable(logins.get(registry));
  }

  @Override
  public String login(String server, String username, String password) throws BackendException {
    String domain = ImageBackend.registryDomain(server);
    String want = accounts.get(domain);
    if (want == null) {
      throw new BackendException(
          BackendException.Kind.UNREACHABLE,
          "login to " + domain + " failed: cannot reach registry " + domain);
    }
    if (!want.equals(username + ":" + password)) {
      throw new BackendException(
          BackendException.Kind.UNAUTHORIZED,
          "login to " + domain + " failed: unauthorized: check the user name and password");
    }
    logins.put(domain, want);
    return domain;
  }

  @Override
  public boolean logout(String server) {
    return logins.remove(ImageBackend.registryDomain(server)) != null;
  }

  /** Makes {@code reference} pullable, running {@code cmd} by default. */
  public MemoryImageBackend publish(String reference, List<String> cmd) {
    return publish(reference, cmd, List.of());
  }

  /** As above, with these ExposedPorts ("80/tcp") in its config. */
  public MemoryImageBackend publish(String reference, List<String> cmd, List<String> exposed) {
    ImageInfo img = image(ImageRef.parse(reference).toString(), cmd, exposed);
    registry.put(img.reference(), img);
    return this;
  }

  /** Makes this image pullable as it is (e.g. one with VOLUMEs). */
  public MemoryImageBackend publish(ImageInfo img) {
    registry.put(img.reference(), img);
    return this;
  }

  /** As above, with this HEALTHCHECK in its config. */
  public MemoryImageBackend publish(String reference, List<String> cmd, HealthConfig check) {
    ImageInfo i = image(ImageRef.parse(reference).toString(), cmd, List.of());
    registry.put(
        i.reference(),
        new ImageInfo(
            i.reference(),
            i.manifestDigest(),
            i.configDigest(),
            i.sizeBytes(),
            i.createdAt(),
            i.entrypoint(),
            i.cmd(),
            i.env(),
            i.workdir(),
            i.user(),
            i.stopSignal(),
            i.disk(),
            i.exposedPorts(),
            i.volumes(),
            check));
    return this;
  }

  private static ImageInfo image(String ref, List<String> cmd, List<String> exposed) {
    String config = "sha256:" + sha256(ref + "\0" + String.join("\0", cmd));
    String manifest = "sha256:" + sha256("manifest " + config);
    return new ImageInfo(
        ref,
        manifest,
        config,
        1_234_567,
        Instant.parse("2026-01-01T00:00:00Z"),
        List.of(),
        cmd,
        List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        null,
        null,
        null,
        Path.of("/nonexistent/" + config.substring(7) + ".ext4"),
        exposed);
  }

  @Override
  public ImageInfo pull(String reference, String platform, ProgressListener progress)
      throws BackendException {
    String ref = normalize(reference);
    ImageInfo img = registry.get(ref);
    if (img == null) {
      throw new BackendException(
          BackendException.Kind.NOT_FOUND,
          "pull " + ref + ": manifest unknown (the registry has no such repository or tag)");
    }
    if (platform != null && !platform.equals("linux/amd64")) {
      throw new BackendException(
          BackendException.Kind.NOT_FOUND,
          "pull " + ref + ": no image for platform " + platform + " (available: linux/amd64)");
    }
    String layer = img.manifestDigest().substring(7, 19);
    progress.progress("Pulling fs layer", layer, -1, -1);
    for (long done = 0; done <= img.sizeBytes(); done += img.sizeBytes() / 4) {
      progress.progress("Downloading", layer, done, img.sizeBytes());
    }
    progress.progress("Pull complete", layer, img.sizeBytes(), img.sizeBytes());
    local.put(ref, img);
    return img;
  }

  @Override
  public List<ImageInfo> list() {
    Map<String, ImageInfo> byManifest = new java.util.TreeMap<>();
    for (ImageInfo i : local.values()) {
      byManifest.putIfAbsent(i.manifestDigest(), named(i));
    }
    List<ImageInfo> all = new ArrayList<>(byManifest.values());
    all.sort((a, b) -> a.reference().compareTo(b.reference()));
    return all;
  }

  /** The image with every name the store has for it, sorted as the image module sorts them. */
  private ImageInfo named(ImageInfo i) {
    List<String> refs =
        local.entrySet().stream()
            .filter(e -> e.getValue().manifestDigest().equals(i.manifestDigest()))
            .map(Map.Entry::getKey)
            .sorted()
            .toList();
    return i.withReferences(refs);
  }

  @Override
  public Optional<ImageInfo> find(String reference) throws BackendException {
    String hex = reference.startsWith("sha256:") ? reference.substring(7) : reference;
    if (hex.length() >= 12 && hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      for (ImageInfo i : local.values()) {
        if (i.configDigest().substring(7).startsWith(hex)
            || i.manifestDigest().substring(7).startsWith(hex)) {
          return Optional.of(named(i));
        }
      }
    }
    return Optional.ofNullable(local.get(normalize(reference))).map(this::named);
  }

  @Override
  public void remove(String reference) throws BackendException {
    ImageInfo img =
        find(reference)
            .orElseThrow(() ->
                new BackendException(
                    BackendException.Kind.NOT_FOUND, "no such image: " + reference));
    String name = local.containsKey(normalizeOrNull(reference)) ? normalize(reference) : null;
    if (name != null && img.references().size() > 1) {
      local.remove(name); // one of several names: the image stays
      return;
    }
    img.references().forEach(local::remove);
  }

  @Override
  public ImageInfo tag(String source, String target) throws BackendException {
    ImageInfo img =
        find(source)
            .orElseThrow(() ->
                new BackendException(BackendException.Kind.NOT_FOUND, "no such image: " + source));
    if (ImageRef.parse(target).digest() != null) {
      throw new BackendException(
          BackendException.Kind.INVALID, "refusing to create a tag with a digest reference");
    }
    local.put(normalize(target), img);
    return named(img);
  }

  /** Two steps: the layer (its size the image's) under a CMD that made none. */
  @Override
  public List<ImageHistoryEntry> history(String reference) throws BackendException {
    ImageInfo img =
        find(reference)
            .orElseThrow(() ->
                new BackendException(
                    BackendException.Kind.NOT_FOUND, "no such image: " + reference));
    return List.of(
        new ImageHistoryEntry(
            null,
            img.createdAt(),
            "/bin/sh -c #(nop) ADD file:memory in / ",
            List.of(),
            img.sizeBytes(),
            ""),
        new ImageHistoryEntry(
            null,
            img.createdAt(),
            "/bin/sh -c #(nop)  CMD " + img.cmd(),
            List.of(),
            0,
            "the stand-in's"));
  }

  private static String normalizeOrNull(String reference) {
    try {
      return ImageRef.parse(reference).toString();
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  @Override
  public List<ImageInfo> load(InputStream in, ProgressListener progress) throws BackendException {
    Map<String, Object> m;
    try {
      m = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw ImageBackend.io("reading the archive", e);
    } catch (JsonException e) {
      throw new BackendException(
          BackendException.Kind.INVALID, "not an image archive: " + e.getMessage());
    }
    if (!(m.get("reference") instanceof String ref) || !(m.get("cmd") instanceof List<?> cmd)) {
      throw new BackendException(
          BackendException.Kind.INVALID, "not an image archive: needs reference and cmd");
    }
    ImageInfo img = image(normalize(ref), cmd.stream().map(String::valueOf).toList(), List.of());
    progress.progress("Loaded image", null, img.sizeBytes(), img.sizeBytes());
    local.put(img.reference(), img);
    return List.of(img);
  }

  @Override
  public void save(List<String> refs, OutputStream out) throws IOException {
    List<ImageInfo> found = new ArrayList<>();
    for (String r : refs) {
      found.add(
          find(r)
              .orElseThrow(() ->
                  new BackendException(BackendException.Kind.NOT_FOUND, "no such image: " + r)));
    }
    for (ImageInfo img : found) {
      out.write(
          (Json.write(Map.of("reference", img.reference(), "cmd", img.cmd())) + "\n")
              .getBytes(StandardCharsets.UTF_8));
    }
  }

  private static String normalize(String reference) throws BackendException {
    try {
      return ImageRef.parse(reference).toString();
    } catch (IllegalArgumentException e) {
      throw new BackendException(BackendException.Kind.INVALID, e.getMessage());
    }
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
