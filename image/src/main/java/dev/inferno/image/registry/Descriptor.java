package dev.inferno.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.Platform;

/**
 * An OCI content descriptor: what to fetch, how big it is, and (in an index) for which platform.
 */
public record Descriptor(String mediaType, Digest digest, long size, Platform platform) {
  public Descriptor {
    if (size < 0) {
      throw new IllegalArgumentException("descriptor size is negative");
    }
  }

  static Descriptor fromJson(JsonNode n) {
    JsonNode d = n.get("digest");
    JsonNode s = n.get("size");
    if (d == null || !d.isTextual() || s == null || !s.canConvertToLong()) {
      throw new ManifestException("descriptor without digest or size: " + n);
    }
    Platform p = null;
    JsonNode pn = n.get("platform");
    if (pn != null && pn.hasNonNull("os") && pn.hasNonNull("architecture")) {
      p =
          new Platform(
              pn.get("os").asText(),
              pn.get("architecture").asText(),
              pn.hasNonNull("variant") ? pn.get("variant").asText() : null);
    }
    Digest digest;
    try {
      digest = Digest.parse(d.asText());
    } catch (IllegalArgumentException e) {
      throw new ManifestException(e.getMessage());
    }
    return new Descriptor(n.path("mediaType").asText(null), digest, s.asLong(), p);
  }
}
