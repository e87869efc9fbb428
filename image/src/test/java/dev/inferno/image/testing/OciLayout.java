package dev.inferno.image.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.ref.Digest;
import io.airlift.compress.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Writes an OCI image layout directory in Java: reproducible blobs, manifests, indexes. */
public final class OciLayout {
  public static final ObjectMapper JSON = new ObjectMapper();

  public enum Compression {
    NONE,
    GZIP,
    ZSTD
  }

  /** A layer: the uncompressed tar and how to compress it. */
  public record Layer(byte[] tar, Compression compression) {}

  private final Path dir;
  private final ArrayNode tags = JSON.createArrayNode();

  public OciLayout(Path dir) {
    this.dir = dir;
    try {
      Files.createDirectories(dir.resolve("blobs/sha256"));
      Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path dir() {
    return dir;
  }

  /** Writes a blob and returns its descriptor. */
  public ObjectNode blob(byte[] bytes, String mediaType) {
    Digest d = Digest.sha256(bytes);
    try {
      Files.write(dir.resolve("blobs/sha256").resolve(d.hex()), bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ObjectNode n = JSON.createObjectNode();
    n.put("mediaType", mediaType);
    n.put("digest", d.toString());
    n.put("size", bytes.length);
    return n;
  }

  public static byte[] compress(byte[] tar, Compression c) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      OutputStream os =
          switch (c) {
            case NONE -> out;
            case GZIP -> new GZIPOutputStream(out); // header mtime is 0: reproducible
            case ZSTD -> new ZstdOutputStream(out);
          };
      os.write(tar);
      os.close();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Streams a plain tar file into a gzip layer blob (never whole in memory); returns the layer
   * descriptor and its diff_id.
   */
  public record FileLayer(ObjectNode descriptor, Digest diffId) {}

  public FileLayer gzipLayer(Path tar) {
    try {
      java.security.MessageDigest plain = Digest.sha256();
      java.security.MessageDigest packed = Digest.sha256();
      Path tmp = dir.resolve("blobs/sha256/.tmp-layer");
      long size;
      try (var in = new java.security.DigestInputStream(Files.newInputStream(tar), plain);
          var counting = new java.security.DigestOutputStream(Files.newOutputStream(tmp), packed);
          var gz = new GZIPOutputStream(counting, 1 << 16)) {
        in.transferTo(gz);
      }
      size = Files.size(tmp);
      Digest d = new Digest("sha256", java.util.HexFormat.of().formatHex(packed.digest()));
      Files.move(tmp, dir.resolve("blobs/sha256").resolve(d.hex()));
      ObjectNode n = JSON.createObjectNode();
      n.put("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip");
      n.put("digest", d.toString());
      n.put("size", size);
      return new FileLayer(
          n, new Digest("sha256", java.util.HexFormat.of().formatHex(plain.digest())));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An image from layers already written as blobs. */
  public ObjectNode image(List<FileLayer> layers, String arch, ObjectNode config, boolean unused) {
    ObjectNode cfg = JSON.createObjectNode();
    cfg.put("created", "2024-01-02T03:04:05Z");
    cfg.put("architecture", arch);
    cfg.put("os", "linux");
    cfg.set("config", config);
    ObjectNode rootfs = cfg.putObject("rootfs");
    rootfs.put("type", "layers");
    ArrayNode diffIds = rootfs.putArray("diff_ids");
    ObjectNode manifest = JSON.createObjectNode();
    manifest.put("schemaVersion", 2);
    manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
    ArrayNode ls = JSON.createArrayNode();
    for (FileLayer l : layers) {
      diffIds.add(l.diffId().toString());
      ls.add(l.descriptor());
    }
    manifest.set("config", blob(bytes(cfg), "application/vnd.oci.image.config.v1+json"));
    manifest.set("layers", ls);
    return blob(bytes(manifest), "application/vnd.oci.image.manifest.v1+json");
  }

  /** Writes config + manifest for these layers; returns the manifest descriptor with platform. */
  public ObjectNode image(List<Layer> layers, String arch, ObjectNode config) {
    return image(layers, arch, config, null);
  }

  /** As above, the config with this {@code history} (null: none). */
  public ObjectNode image(List<Layer> layers, String arch, ObjectNode config, ArrayNode history) {
    ObjectNode cfg = JSON.createObjectNode();
    cfg.put("created", "2024-01-02T03:04:05Z");
    cfg.put("architecture", arch);
    cfg.put("os", "linux");
    cfg.set("config", config);
    if (history != null) {
      cfg.set("history", history);
    }
    ObjectNode rootfs = cfg.putObject("rootfs");
    rootfs.put("type", "layers");
    ArrayNode diffIds = rootfs.putArray("diff_ids");
    List<ObjectNode> layerDescs = new ArrayList<>();
    for (Layer l : layers) {
      diffIds.add(Digest.sha256(l.tar()).toString());
      String mt =
          switch (l.compression()) {
            case NONE -> "application/vnd.oci.image.layer.v1.tar";
            case GZIP -> "application/vnd.oci.image.layer.v1.tar+gzip";
            case ZSTD -> "application/vnd.oci.image.layer.v1.tar+zstd";
          };
      layerDescs.add(blob(compress(l.tar(), l.compression()), mt));
    }
    ObjectNode manifest = JSON.createObjectNode();
    manifest.put("schemaVersion", 2);
    manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
    manifest.set("config", blob(bytes(cfg), "application/vnd.oci.image.config.v1+json"));
    ArrayNode ls = manifest.putArray("layers");
    layerDescs.forEach(ls::add);
    ObjectNode desc = blob(bytes(manifest), "application/vnd.oci.image.manifest.v1+json");
    ObjectNode p = desc.putObject("platform");
    p.put("architecture", arch);
    p.put("os", "linux");
    return desc;
  }

  /** Writes an index over manifests; returns its descriptor. */
  public ObjectNode index(List<ObjectNode> manifests) {
    ObjectNode idx = JSON.createObjectNode();
    idx.put("schemaVersion", 2);
    idx.put("mediaType", "application/vnd.oci.image.index.v1+json");
    ArrayNode ms = idx.putArray("manifests");
    manifests.forEach(ms::add);
    return blob(bytes(idx), "application/vnd.oci.image.index.v1+json");
  }

  /** Names a manifest or index in index.json (what skopeo's {@code oci:DIR:tag} reads). */
  public OciLayout tag(String tag, ObjectNode descriptor) {
    ObjectNode d = descriptor.deepCopy();
    d.remove("platform");
    d.putObject("annotations").put("org.opencontainers.image.ref.name", tag);
    tags.add(d);
    ObjectNode index = JSON.createObjectNode();
    index.put("schemaVersion", 2);
    index.set("manifests", tags);
    try {
      Files.write(dir.resolve("index.json"), bytes(index));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  public static byte[] bytes(Object json) {
    try {
      return JSON.writeValueAsBytes(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
