package dev.inferno.daemon.backend;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the daemon needs from the image module: a store of images turned into read-only disks.
 * References are given as the user typed them; implementations normalize them.
 */
public interface ImageBackend {
  /** Pulls (or refreshes) an image, reporting progress; returns it once its disk is ready. */
  ImageInfo pull(String reference, String platform, ProgressListener progress)
      throws BackendException;

  /** Images stored locally. */
  List<ImageInfo> list() throws BackendException;

  /** The local image a reference (or an image id / digest) names, if present. */
  Optional<ImageInfo> find(String reference) throws BackendException;

  /**
   * The files each stored image keeps on the host, by manifest digest (disk usage reads what they
   * allocate; a file two images keep is shared). By default each image's disk.
   */
  default Map<String, Set<Path>> files() throws BackendException {
    Map<String, Set<Path>> out = new LinkedHashMap<>();
    for (ImageInfo i : list()) {
      out.put(i.manifestDigest(), Set.of(i.disk()));
    }
    return out;
  }

  /**
   * Names the image {@code source} finds by {@code target} too (normalized; a name another image
   * had moves); returns the image with its new name. {@link BackendException.Kind#NOT_FOUND} for an
   * unknown source, {@link BackendException.Kind#INVALID} for a target that is no reference or
   * holds a digest.
   */
  ImageInfo tag(String source, String target) throws BackendException;

  /**
   * The build steps of the image {@code reference} finds, oldest first, without id or tags (the
   * caller knows the image).
   */
  List<dev.inferno.model.ImageHistoryEntry> history(String reference) throws BackendException;

  /** Removes an image's record and, when unreferenced, its blobs and disk. */
  void remove(String reference) throws BackendException;

  /** Loads images from a {@code docker save} or OCI layout tar; returns what it loaded. */
  List<ImageInfo> load(InputStream tar, ProgressListener progress) throws BackendException;

  /**
   * Writes a tar of the images {@code refs} name to {@code out}, in the layout {@code docker save}
   * writes and {@link #load} reads. Every name is resolved before the first byte is written: an
   * unknown one is {@link BackendException.Kind#NOT_FOUND} with nothing written.
   *
   * @throws IOException when writing to {@code out} fails (the client went away)
   */
  void save(List<String> refs, OutputStream out) throws IOException;

  /**
   * Checks credentials against a registry and, when it accepts them, keeps them for later pulls
   * (what {@code inferno login} asks for). Throws {@link BackendException.Kind#UNAUTHORIZED} when
   * the registry rejects them, {@link BackendException.Kind#UNREACHABLE} when it cannot be reached.
   *
   * @param server the registry as the user typed it (docker.io, https://index.docker.io/v1/,
   *     127.0.0.1:5000)
   * @return the registry's normalized name (docker.io, 127.0.0.1:5000)
   */
  String login(String server, String username, String password) throws BackendException;

  /**
   * Forgets the credentials kept for a registry; returns whether there were any.
   *
   * @param server as for {@link #login}
   */
  boolean logout(String server) throws BackendException;

  /**
   * The registry a login server names: scheme and path dropped, Docker Hub's aliases made
   * docker.io, a blank one is docker.io.
   */
  static String registryDomain(String server) {
    if (server == null || server.isBlank()) {
      return "docker.io";
    }
    String s = server.strip();
    int scheme = s.indexOf("://");
    if (scheme >= 0) {
      s = s.substring(scheme + 3);
    }
    int slash = s.indexOf('/');
    if (slash >= 0) {
      s = s.substring(0, slash);
    }
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", "docker.io" ->
          "docker.io";
      default -> s;
    };
  }

  /** Receives progress of a pull or load; called from the pulling threads. */
  @FunctionalInterface
  interface ProgressListener {
    /**
     * Reports one step.
     *
     * @param status what happens now ("Downloading", "Verifying", "Pull complete", …)
     * @param layer short id of the layer concerned, or null for the image
     * @param current bytes done, or -1
     * @param total bytes expected, or -1
     */
    void progress(String status, String layer, long current, long total);

    ProgressListener NONE = (s, l, c, t) -> {};
  }

  /** Thrown when IO fails underneath; the message is for the user. */
  static BackendException io(String what, IOException e) {
    return new BackendException(BackendException.Kind.FAILED, what + ": " + e.getMessage(), e);
  }
}
