package dev.inferno.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.ImageRef;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.Descriptor;
import dev.inferno.image.registry.Manifest;
import dev.inferno.image.registry.MediaTypes;
import dev.inferno.image.store.BlobStore;
import dev.inferno.image.unpack.LayerUnpacker;
import dev.inferno.sys.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * {@code inferno load}: OCI image layouts (a directory, or a tar of one) and {@code docker save}
 * archives. Every blob is verified into the store, then each image is materialised like a pull
 * whose layers are all present.
 */
final class ArchiveLoader {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final BlobStore blobs;
  private final Materialiser materialiser;
  private final Path tmp;
  private final LayerUnpacker.Limits limits;

  /**
   * @param tmp scratch for unpacking an archive (cleaned at start with the other scratch)
   */
  ArchiveLoader(BlobStore blobs, Materialiser materialiser, Path tmp, LayerUnpacker.Limits limits) {
    this.blobs = blobs;
    this.materialiser = materialiser;
    this.tmp = tmp;
    this.limits = limits;
  }

  /** Loads every image in a layout directory or an archive file. */
  List<Image> load(Path source, Platform platform, PullProgress progress) {
    try {
      if (Files.isDirectory(source)) {
        return loadDir(source, platform, progress);
      }
      Path dir = tmp.resolve("load-" + UUID.randomUUID());
      Files.createDirectories(dir);
      try {
        // an archive is unpacked with a layer's defences: it is just as untrusted
        try (InputStream in = Files.newInputStream(source)) {
          new LayerUnpacker(dir, limits).apply(in);
        }
        return loadDir(dir, platform, progress);
      } finally {
        FileTrees.delete(dir);
      }
    } catch (IOException e) {
      throw new ImageException("cannot load " + source + ": " + e.getMessage(), e);
    }
  }

  private List<Image> loadDir(Path dir, Platform platform, PullProgress progress)
      throws IOException {
    if (Files.isRegularFile(dir.resolve("index.json"), LinkOption.NOFOLLOW_LINKS)) {
      return ociLayout(dir, platform, progress);
    }
    if (Files.isRegularFile(dir.resolve("manifest.json"), LinkOption.NOFOLLOW_LINKS)) {
      return dockerSave(dir, platform, progress);
    }
    throw new ImageException(
        dir
            + " is neither an OCI image layout (index.json) nor a docker save archive (manifest.json)");
  }

  private List<Image> ociLayout(Path dir, Platform platform, PullProgress progress)
      throws IOException {
    JsonNode index = JSON.readTree(readSafe(dir.resolve("index.json")));
    List<Image> out = new ArrayList<>();
    for (JsonNode n : index.path("manifests")) {
      Descriptor d = descriptor(n);
      List<String> refs = new ArrayList<>();
      String name = n.path("annotations").path("io.containerd.image.name").asText("");
      if (name.isEmpty()) {
        name = n.path("annotations").path("org.opencontainers.image.ref.name").asText("");
      }
      if (!name.isEmpty() && (name.contains("/") || name.contains(":"))) {
        try {
          refs.add(ImageRef.parse(name).withDigest(null).toString());
        } catch (IllegalArgumentException notAName) {
          // a bare tag: nothing to name the image by
        }
      }
      Manifest m = manifest(dir, d);
      List<Manifest> extra = new ArrayList<>();
      if (m instanceof Manifest.Index idx) {
        extra.add(idx);
        m = manifest(dir, idx.select(platform));
      }
      if (!(m instanceof Manifest.Image img)) {
        throw new ImageException("index entry " + d.digest() + " is not an image manifest");
      }
      importBlob(dir, img.config());
      for (Descriptor l : img.layers()) {
        importBlob(dir, l);
      }
      out.add(materialiser.materialise(img, extra, NOWHERE, platform, refs, progress));
    }
    if (out.isEmpty()) {
      throw new ImageException(dir + "/index.json lists no manifests");
    }
    return out;
  }

  private Manifest manifest(Path dir, Descriptor d) throws IOException {
    importBlob(dir, d);
    byte[] bytes = blobs.read(d.digest());
    return Manifest.parse(bytes, d.digest(), d.mediaType());
  }

  private void importBlob(Path dir, Descriptor d) throws IOException {
    if (blobs.has(d.digest())) {
      return;
    }
    Path p = dir.resolve("blobs").resolve(d.digest().algorithm()).resolve(d.digest().hex());
    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new ImageException("the image layout lacks blob " + d.digest());
    }
    blobs.put(
        d.digest(),
        d.size(),
        out -> {
          try (InputStream in = Files.newInputStream(p)) {
            in.transferTo(out);
          }
        });
  }

  private static Descriptor descriptor(JsonNode n) {
    Platform p = null;
    JsonNode pn = n.path("platform");
    if (pn.hasNonNull("os") && pn.hasNonNull("architecture")) {
      p =
          new Platform(
              pn.get("os").asText(),
              pn.get("architecture").asText(),
              pn.path("variant").asText(null));
    }
    return new Descriptor(
        n.path("mediaType").asText(null),
        Digest.parse(n.path("digest").asText()),
        n.path("size").asLong(),
        p);
  }

  /** Legacy {@code docker save}: manifest.json with Config, RepoTags and Layers (plain tars). */
  private List<Image> dockerSave(Path dir, Platform platform, PullProgress progress)
      throws IOException {
    JsonNode list = JSON.readTree(readSafe(dir.resolve("manifest.json")));
    List<Image> out = new ArrayList<>();
    for (JsonNode entry : list) {
      Path configPath = inside(dir, entry.path("Config").asText());
      Descriptor config = importFile(configPath, MediaTypes.DOCKER_CONFIG);
      ObjectNode manifest = JSON.createObjectNode();
      manifest.put("schemaVersion", 2);
      manifest.put("mediaType", MediaTypes.DOCKER_MANIFEST);
      manifest.set("config", json(config));
      ArrayNode layers = manifest.putArray("layers");
      for (JsonNode l : entry.path("Layers")) {
        layers.add(
            json(
                importFile(
                    inside(dir, l.asText()), "application/vnd.docker.image.rootfs.diff.tar")));
      }
      byte[] bytes = JSON.writeValueAsBytes(manifest);
      Digest md = Digest.sha256(bytes);
      Manifest.Image img = (Manifest.Image) Manifest.parse(bytes, md, MediaTypes.DOCKER_MANIFEST);
      List<String> refs = new ArrayList<>();
      for (JsonNode t : entry.path("RepoTags")) {
        refs.add(ImageRef.parse(t.asText()).withDigest(null).toString());
      }
      out.add(materialiser.materialise(img, List.of(), NOWHERE, platform, refs, progress));
    }
    return out;
  }

  /** Every blob an archive's manifest needs is imported before materialising. */
  private static final LayerFetcher.BlobSource NOWHERE =
      (d, onBytes) -> {
        throw new ImageException(
            "the archive lacks blob " + d.digest() + " that its manifest needs");
      };

  private static ObjectNode json(Descriptor d) {
    ObjectNode n = JSON.createObjectNode();
    n.put("mediaType", d.mediaType());
    n.put("size", d.size());
    n.put("digest", d.digest().toString());
    return n;
  }

  private Descriptor importFile(Path p, String mediaType) throws IOException {
    MessageDigest md = Digest.sha256();
    long size;
    try (InputStream in = new DigestInputStream(Files.newInputStream(p), md)) {
      size = in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    Digest d = new Digest("sha256", HexFormat.of().formatHex(md.digest()));
    blobs.put(
        d,
        size,
        o -> {
          try (InputStream in = Files.newInputStream(p)) {
            in.transferTo(o);
          }
        });
    return new Descriptor(mediaType, d, size, null);
  }

  /** A path named by the archive, which must stay inside it. */
  private static Path inside(Path dir, String name) {
    List<String> comps = LayerUnpacker.cleanPath(name);
    Path p = dir;
    for (String c : comps) {
      p = p.resolve(c);
    }
    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new ImageException("the archive lacks " + name);
    }
    return p;
  }

  private static byte[] readSafe(Path p) throws IOException {
    if (Files.size(p) > (16 << 20)) {
      throw new ImageException(p + " is implausibly large");
    }
    return Files.readAllBytes(p);
  }
}
