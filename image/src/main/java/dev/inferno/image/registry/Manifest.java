package dev.inferno.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.Platform;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed manifest or index; {@code bytes} are exactly what the registry sent (and were hashed).
 */
public sealed interface Manifest {
  ObjectMapper JSON = new ObjectMapper();

  Digest digest();

  String mediaType();

  byte[] bytes();

  /** A single-platform image: a config blob plus ordered layers. */
  @SuppressWarnings("ArrayRecordComponent") // the exact bytes that were hashed; never mutated
  record Image(
      Digest digest, String mediaType, byte[] bytes, Descriptor config, List<Descriptor> layers)
      implements Manifest {}

  /** A multi-platform index (OCI index or Docker manifest list). */
  @SuppressWarnings("ArrayRecordComponent")
  record Index(Digest digest, String mediaType, byte[] bytes, List<Descriptor> manifests)
      implements Manifest {
    /** The entry for the platform, or a clear error listing what the index offers. */
    public Descriptor select(Platform want) {
      Descriptor exact = null;
      for (Descriptor d : manifests) {
        Platform p = d.platform();
        if (p != null && want.accepts(p.os(), p.architecture(), p.variant())) {
          if (exact == null) {
            exact = d;
          }
        }
      }
      if (exact == null) {
        List<String> offered = new ArrayList<>();
        for (Descriptor d : manifests) {
          if (d.platform() != null) {
            offered.add(d.platform().toString());
          }
        }
        throw new ManifestException(
            "no manifest for platform "
                + want
                + " in the image index; it offers "
                + offered
                + " (choose one with --platform)");
      }
      return exact;
    }
  }

  /**
   * Parses manifest bytes. The media type comes from the JSON itself when present, else from the
   * response's Content-Type.
   */
  static Manifest parse(byte[] bytes, Digest digest, String contentType) {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new ManifestException("manifest " + digest + " is not valid JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new ManifestException("manifest " + digest + " is not a JSON object");
    }
    String mt = root.path("mediaType").asText(null);
    if (mt == null || mt.isEmpty()) {
      mt = contentType;
    }
    int schemaVersion = root.path("schemaVersion").asInt(0);
    if (schemaVersion == 1
        || (MediaTypes.isSchema1(mt) && !root.has("manifests") && !root.has("config"))) {
      throw new ManifestException(
          "manifest "
              + digest
              + " is Docker schema 1, which is deprecated and not supported;"
              + " push the image again with a current client (schema 2 or OCI)");
    }
    if (root.has("manifests") || MediaTypes.isIndex(mt)) {
      List<Descriptor> ms = new ArrayList<>();
      for (JsonNode n : root.path("manifests")) {
        ms.add(Descriptor.fromJson(n));
      }
      return new Index(digest, mt == null ? MediaTypes.OCI_INDEX : mt, bytes, List.copyOf(ms));
    }
    if (!root.has("config")) {
      throw new ManifestException("manifest " + digest + " has no config (media type " + mt + ")");
    }
    Descriptor config = Descriptor.fromJson(root.get("config"));
    List<Descriptor> layers = new ArrayList<>();
    for (JsonNode n : root.path("layers")) {
      Descriptor l = Descriptor.fromJson(n);
      if (l.mediaType() != null && !MediaTypes.isLayer(l.mediaType()) && !l.mediaType().isEmpty()) {
        throw new ManifestException(
            "manifest " + digest + " has a layer of unsupported media type " + l.mediaType());
      }
      if (l.mediaType() != null && l.mediaType().contains("foreign")) {
        // Windows foreign layers cannot be fetched from the registry; nothing to do on Linux.
        throw new ManifestException("manifest " + digest + " has a foreign (Windows) layer");
      }
      layers.add(l);
    }
    return new Image(
        digest, mt == null ? MediaTypes.OCI_MANIFEST : mt, bytes, config, List.copyOf(layers));
  }
}
