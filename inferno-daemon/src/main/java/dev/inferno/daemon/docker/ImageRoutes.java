package dev.inferno.daemon.docker;

import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.backend.BackendException;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.images.ImageOps;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.image.ref.ImageRef;
import dev.inferno.model.AuthRequest;
import dev.inferno.model.ImageHistoryEntry;
import dev.inferno.model.ImageSummary;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Docker API routes: images: create (pull), load, get (save), json, {name}/json, {name}/tag,
 * {name}/history, DELETE (owner: docker images).
 */
final class ImageRoutes {
  private static final Set<String> LIST_FILTERS = Set.of("reference", "dangling", "label");

  private final DockerContext ctx;

  ImageRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of(
        new Route("POST", "/images/create", this::create),
        new Route("POST", "/images/load", this::load),
        new Route("GET", "/images/get", ex -> save(ex, ex.queryAll("names"))),
        new Route("GET", "/images/{name*}/get", ex -> save(ex, List.of(ex.path("name")))),
        new Route("GET", "/images/json", this::list),
        // image names hold slashes (localhost:5000/library/busybox): {name*} takes them all
        new Route("GET", "/images/{name*}/json", this::inspect),
        new Route("POST", "/images/{name*}/tag", this::tag),
        new Route("GET", "/images/{name*}/history", this::history),
        new Route("DELETE", "/images/{name*}", this::remove));
  }

  // --- pull ---

  private void create(Exchange ex) throws Exception {
    if (ex.query("fromSrc") != null) {
      throw ApiException.badRequest(
          "fromSrc (docker import) is not supported: inferno images come from a registry (docker"
              + " pull) or an image archive (inferno load)");
    }
    for (String unsupported : List.of("repo", "message", "changes")) {
      if (ex.query(unsupported) != null && !ex.query(unsupported).isEmpty()) {
        throw ApiException.badRequest(
            unsupported + " is not supported: it belongs to docker import");
      }
    }
    String from = ex.query("fromImage");
    if (from == null || from.isBlank()) {
      throw ApiException.badRequest("fromImage is required: the image to pull");
    }
    String ref = reference(from, ex.query("tag"));
    ImageRef parsed;
    try {
      parsed = ImageRef.parse(ref);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    String platform = ex.query("platform");
    login(ex.requestHeader("X-Registry-Auth"), parsed);

    String before = localDigest(ref);
    String shown = DockerEvents.familiar(ref);
    // dockerd names the repository's path, without the registry: "Pulling from library/busybox"
    String repo = parsed.repository();
    String tagOrDigest = parsed.digest() != null ? parsed.digest().toString() : parsed.tag();
    OutputStream[] out = new OutputStream[1];
    DockerPullProgress progress = new DockerPullProgress(repo, tagOrDigest, l -> line(ex, out, l));
    ImageSummary img;
    try {
      img =
          ctx.images()
              .pull(ref, platform == null || platform.isEmpty() ? null : platform, progress);
    } catch (ClientGone e) {
      throw e;
    } catch (RuntimeException e) {
      if (!progress.began()) {
        throw notFoundAsDockerd(e, shown);
      }
      // the stream has begun: dockerd's in-stream error, which the CLI shows and exits 1 on
      String m = e.getMessage() != null ? e.getMessage() : e.toString();
      line(ex, out, new ImageShapes.StreamError(new ImageShapes.ErrorDetail(m), m));
      return;
    }
    progress.begin();
    line(ex, out, new ImageShapes.Progress("Digest: " + img.manifestDigest(), null, null));
    line(
        ex,
        out,
        new ImageShapes.Progress(
            img.manifestDigest().equals(before)
                ? "Status: Image is up to date for " + shown
                : "Status: Downloaded newer image for " + shown,
            null,
            null));
  }

  /** fromImage and tag as one reference (a tag may be a digest); no tag: latest. */
  static String reference(String from, String tag) {
    if (tag == null || tag.isEmpty()) {
      return from;
    }
    return from + (tag.startsWith("sha256:") ? "@" : ":") + tag;
  }

  /** The manifest digest of the local image ref names, or null when there is none. */
  private String localDigest(String ref) {
    try {
      return ctx.images().details(ref).manifestDigest();
    } catch (ApiException | BackendException e) {
      return null;
    }
  }

  /**
   * dockerd's words for a missing repository or tag (scripts match on "manifest for … not found").
   */
  private static RuntimeException notFoundAsDockerd(RuntimeException e, String shown) {
    int status =
        e instanceof ApiException a
            ? a.status()
            : e instanceof BackendException b && b.kind() == BackendException.Kind.NOT_FOUND
                ? 404
                : -1;
    if (status != 404) {
      return e;
    }
    return ApiException.notFound(
        "manifest for " + shown + " not found: manifest unknown: " + e.getMessage());
  }

  /**
   * X-Registry-Auth: base64url JSON of the client's credentials for the registry. Empty (no user)
   * is what clients send without a login; user and password are checked and kept for the registry
   * as {@code inferno login} keeps them (one credentials store for both APIs); tokens are refused.
   */
  private void login(String header, ImageRef ref) {
    if (header == null || header.isBlank()) {
      return;
    }
    ImageShapes.RegistryAuth auth;
    try {
      byte[] raw = Base64.getUrlDecoder().decode(header.trim().replace('+', '-').replace('/', '_'));
      auth =
          DockerJson.mapper()
              .copy()
              .configure(
                  com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES,
                  false)
              .readValue(new String(raw, StandardCharsets.UTF_8), ImageShapes.RegistryAuth.class);
    } catch (IllegalArgumentException | IOException e) {
      throw ApiException.badRequest(
          "invalid X-Registry-Auth header: expected base64url-encoded JSON credentials");
    }
    if (auth == null) {
      return;
    }
    if (notEmpty(auth.identityToken()) || notEmpty(auth.registryToken())) {
      throw ApiException.badRequest(
          "X-Registry-Auth with a token is not supported: log in to "
              + ref.domain()
              + " with a user name and password (docker login, or inferno login)");
    }
    String user = auth.username();
    String password = auth.password();
    if (!notEmpty(user) && notEmpty(auth.auth())) {
      String plain;
      try {
        plain = new String(Base64.getDecoder().decode(auth.auth()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest("invalid X-Registry-Auth header: auth is not base64");
      }
      int colon = plain.indexOf(':');
      if (colon > 0) {
        user = plain.substring(0, colon);
        password = plain.substring(colon + 1);
      }
    }
    if (!notEmpty(user)) {
      return; // no credentials: an anonymous pull
    }
    String server = notEmpty(auth.serverAddress()) ? auth.serverAddress() : ref.domain();
    ctx.images().login(new AuthRequest(server, user, password));
  }

  private static boolean notEmpty(String s) {
    return s != null && !s.isEmpty();
  }

  /** Writes one line of the pull's stream, starting it (200) with the first. */
  private void line(Exchange ex, OutputStream[] out, Object line) {
    try {
      if (out[0] == null) {
        out[0] = ex.stream("application/json");
      }
      out[0].write(ctx.json().writeValueAsBytes(line));
      out[0].write("\r\n".getBytes(StandardCharsets.US_ASCII));
      out[0].flush();
    } catch (IOException e) {
      throw new ClientGone(e);
    }
  }

  /** The client went away mid-pull: nothing to tell it. */
  private static final class ClientGone extends UncheckedIOException {
    private static final long serialVersionUID = 1L;

    ClientGone(IOException e) {
      super("the client went away during the pull", e);
    }
  }

  // --- load ---

  /**
   * {@code docker load}: a {@code docker save} archive or an OCI layout tar, read by the one image
   * loader {@code inferno load} uses. The answer is dockerd's: one {@code {"stream":"Loaded image:
   * NAME\n"}} line per image, after the load (an archive it cannot read is a plain error status).
   * The loader's per-layer steps are not sent, with or without {@code quiet}.
   */
  private void load(Exchange ex) throws Exception {
    String quiet = ex.query("quiet");
    if (quiet != null && !quiet.matches("|0|1|true|false")) {
      throw ApiException.badRequest("invalid quiet=" + quiet + ": expected a boolean");
    }
    List<ImageSummary> loaded =
        ctx.images().load(ex.body(dev.inferno.daemon.api.Routes.MAX_ARCHIVE), (a, b, c, d) -> {});
    OutputStream[] out = new OutputStream[1];
    for (ImageSummary img : loaded) {
      line(
          ex,
          out,
          new ImageShapes.Stream("Loaded image: " + DockerEvents.familiar(img.reference()) + "\n"));
    }
    if (out[0] == null) {
      line(ex, out, new ImageShapes.Stream("Loaded no image: the archive names none\n"));
    }
  }

  // --- save ---

  /**
   * {@code docker save}: a tar in docker 25's layout, written by the image store's saver that
   * {@code inferno save} uses. Every name is checked first, so an unknown one is dockerd's 404
   * {@code No such image: NAME} before any byte of the tar.
   */
  private void save(Exchange ex, List<String> names) throws IOException {
    String platform = ex.query("platform");
    if (platform != null && !platform.isEmpty()) {
      throw ApiException.badRequest(
          "platform is not supported: the image store keeps one platform of each image; save"
              + " it without one");
    }
    if (names.isEmpty()) {
      throw ApiException.badRequest("names is required: the images to save");
    }
    names.forEach(this::image);
    ctx.images().save(names, ex.streamFromFirstByte(SessionRoutes.TAR));
  }

  // --- list, inspect ---

  private void list(Exchange ex) throws IOException {
    DockerFilters f = DockerFilters.parse(ex.query("filters"), ctx.json(), LIST_FILTERS);
    boolean old = DockerApi.atMost(ex, "1.43");
    List<ImageShapes.Summary> out = new ArrayList<>();
    List<String> patterns = f.get("reference");
    for (ImageInfo i : ctx.images().all()) {
      boolean dangling = i.references().isEmpty();
      // as dockerd: a reference filter keeps the images with a matching name, and only those names
      List<String> matching =
          i.references().stream()
              .filter(r ->
                  patterns.isEmpty()
                      || patterns.stream()
                          .anyMatch(p -> referenceMatches(p, DockerEvents.familiar(r))))
              .toList();
      if ((!patterns.isEmpty() && matching.isEmpty())
          || !f.admits("dangling", v -> (v.equals("true") || v.equals("1")) == dangling)
          || !f.labels(i.labels())) {
        continue; // label: every one given must match, as dockerd
      }
      ImageInfo shown = dangling ? i : i.withReferences(matching);
      out.add(summary(shown, ctx.images().users(i, false).size(), i.sizeBytes(), -1, old));
    }
    ex.send(200, out);
  }

  /**
   * Docker's ImageSummary of {@code i}: the list's ({@code size} its content, shared -1) and df's
   * (what its files allocate, and the part another image keeps too).
   *
   * @param old API 1.43 or older: VirtualSize too
   */
  static ImageShapes.Summary summary(
      ImageInfo i, int containers, long size, long shared, boolean old) {
    return new ImageShapes.Summary(
        i.configDigest(),
        "",
        repoTags(i),
        repoDigests(i),
        DockerTime.unix(i.createdAt()),
        size,
        shared,
        old ? size : null,
        i.labels(),
        containers);
  }

  /** Docker's reference filter: a glob on the name, or on name:tag. */
  static boolean referenceMatches(String pattern, String familiarTag) {
    Pattern p = glob(pattern);
    int colon = familiarTag.lastIndexOf(':');
    String name =
        colon > familiarTag.lastIndexOf('/') ? familiarTag.substring(0, colon) : familiarTag;
    return p.matcher(familiarTag).matches() || p.matcher(name).matches();
  }

  private static Pattern glob(String g) {
    StringBuilder b = new StringBuilder();
    for (char c : g.toCharArray()) {
      switch (c) {
        case '*' -> b.append("[^/]*");
        case '?' -> b.append("[^/]");
        default -> b.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(b.toString());
  }

  /** The image's names as Docker prints them ({@code busybox:latest}); none when dangling. */
  private static List<String> repoTags(ImageInfo i) {
    return i.references().stream().map(DockerEvents::familiar).toList();
  }

  /** NAME@DIGEST for each repository naming the image (dockerd's RepoDigests). */
  private static List<String> repoDigests(ImageInfo i) {
    if (i.manifestDigest() == null) {
      return List.of();
    }
    return repoTags(i).stream()
        .map(ref -> {
          int colon = ref.lastIndexOf(':');
          return (colon > ref.lastIndexOf('/') ? ref.substring(0, colon) : ref)
              + "@"
              + i.manifestDigest();
        })
        .distinct()
        .toList();
  }

  private ImageInfo image(String name) {
    try {
      return ctx.images().details(name);
    } catch (ApiException e) {
      if (e.status() == 404) {
        throw ApiException.notFound("No such image: " + name);
      }
      throw e;
    }
  }

  private void inspect(Exchange ex) throws IOException {
    ImageInfo i = image(ex.path("name"));
    boolean old = DockerApi.atMost(ex, "1.43");
    ex.send(
        200,
        new ImageShapes.Inspect(
            i.configDigest(),
            repoTags(i),
            repoDigests(i),
            "",
            "",
            DockerTime.format(i.createdAt()),
            "",
            "",
            config(i),
            i.architecture() != null ? i.architecture() : SystemRoutes.goArch(),
            i.os() != null ? i.os() : "linux",
            i.sizeBytes(),
            old ? i.sizeBytes() : null,
            new ImageShapes.GraphDriver("inferno-ext4", Map.of()),
            new ImageShapes.RootFS("layers", List.of()),
            new ImageShapes.Metadata(DockerTime.ZERO)));
  }

  private static DockerConfig config(ImageInfo i) {
    Map<String, Object> ports = DockerConfig.set(i.exposedPorts());
    Map<String, Object> volumes = DockerConfig.set(i.volumes());
    return new DockerConfig(
        "",
        "",
        i.user() == null ? "" : i.user(),
        false,
        false,
        false,
        ports,
        false,
        false,
        false,
        i.env(),
        i.cmd().isEmpty() ? null : i.cmd(),
        DockerConfig.Healthcheck.of(i.healthcheck()),
        "",
        volumes,
        i.workdir() == null ? "" : i.workdir(),
        i.entrypoint().isEmpty() ? null : i.entrypoint(),
        null,
        i.labels().isEmpty() ? null : i.labels(),
        i.stopSignal(),
        null);
  }

  // --- remove ---

  private void remove(Exchange ex) throws Exception {
    String name = ex.path("name");
    boolean force = ex.flag("force");
    ex.flag("noprune"); // checked; nothing to prune: images here have no parent images
    ImageInfo img = image(name);
    boolean untagOnly = ImageOps.untagsOnly(img, name);
    try {
      ctx.images().remove(name, force);
    } catch (ApiException e) {
      if (e.status() == 409) {
        throw inUse(img, name, force);
      }
      throw e;
    }
    List<Object> out = new ArrayList<>();
    if (untagOnly) {
      // one of several names: dockerd untags it and the image stays
      out.add(new ImageShapes.Untagged(DockerEvents.familiar(name)));
    } else {
      repoTags(img).forEach(t -> out.add(new ImageShapes.Untagged(t)));
      repoDigests(img).forEach(d -> out.add(new ImageShapes.Untagged(d)));
      out.add(new ImageShapes.Deleted(img.configDigest()));
    }
    ex.send(200, out);
  }

  // --- tag, history ---

  /**
   * {@code docker tag SOURCE REPO[:TAG]}: the image store's tag, 201 with no body as dockerd. No
   * {@code tag} is {@code latest}; a name another image had moves to this one.
   */
  private void tag(Exchange ex) throws Exception {
    String name = ex.path("name");
    String repo = ex.query("repo");
    if (repo == null || repo.isEmpty()) {
      throw ApiException.badRequest("repo is required: the name to tag the image with");
    }
    String tag = ex.query("tag");
    image(name);
    String target = tag == null || tag.isEmpty() ? repo : repo + ":" + tag;
    if (tag != null && tag.startsWith("sha256:")) {
      target = repo + "@" + tag; // refused below with dockerd's words
    }
    ctx.images().tag(name, target);
    ex.sendEmpty(201);
  }

  /**
   * {@code docker history}: the config's history, newest first; the newest step carries the image
   * id and names, the ones below {@code <missing>} as for a pulled image. A layer's Size is its
   * compressed blob's (see docs/docker-api.md).
   */
  private void history(Exchange ex) throws IOException {
    String name = ex.path("name");
    image(name);
    List<ImageShapes.HistoryItem> out = new ArrayList<>();
    for (ImageHistoryEntry e : ctx.images().history(name)) {
      out.add(
          new ImageShapes.HistoryItem(
              e.id() != null ? e.id() : "<missing>",
              e.createdAt() == null ? 0 : e.createdAt().getEpochSecond(),
              e.createdBy(),
              e.id() != null ? e.tags().stream().map(DockerEvents::familiar).toList() : null,
              e.sizeBytes(),
              e.comment()));
    }
    ex.send(200, out);
  }

  /** The 409 as dockerd words it (scripts match on "conflict: unable to …"). */
  private ApiException inUse(ImageInfo img, String name, boolean force) {
    String shortImage = img.configDigest().substring(7, 19);
    List<String> running = ctx.images().users(img, true);
    if (!running.isEmpty()) {
      return ApiException.conflict(
          "conflict: unable to delete "
              + shortImage
              + " (cannot be forced) - image is being used by running container "
              + containerId(running.getFirst()));
    }
    List<String> users = ctx.images().users(img, false);
    String user = users.isEmpty() ? "?" : containerId(users.getFirst());
    return ApiException.conflict(
        "conflict: unable to remove repository reference \""
            + name
            + "\" (must force) - container "
            + user
            + " is using its referenced image "
            + shortImage);
  }

  /** A VM's short id, as dockerd names containers in its conflicts. */
  private String containerId(String name) {
    try {
      String id = ctx.vms().resolve(name).id();
      return id.length() > 12 ? id.substring(0, 12) : id;
    } catch (ApiException e) {
      return name; // removed meanwhile
    }
  }
}
