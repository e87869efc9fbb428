package dev.inferno.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.image.registry.Descriptor;
import dev.inferno.image.registry.Manifest;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * An image's build history ({@code docker history}): the config's {@code history}, each entry that
 * made a layer paired, in order, with that layer of the manifest. A layer's size is its compressed
 * blob's, as the manifest gives it (what was pulled and is kept; the uncompressed size is not
 * recorded per layer).
 */
public final class ImageHistory {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ImageHistory() {}

  /**
   * One step of the build, oldest first as the config lists it.
   *
   * @param created when the step ran, or null when the config does not say
   * @param createdBy the command ({@code /bin/sh -c #(nop) CMD ["sh"]}), or empty
   * @param comment the step's comment, or empty
   * @param emptyLayer whether the step made no layer (then size is 0)
   * @param size the compressed size of the layer the step made
   */
  public record Entry(
      Instant created, String createdBy, String comment, boolean emptyLayer, long size) {}

  /**
   * The entries of a config (its JSON bytes) for a manifest's layers. A config without history
   * (some tools write none) gives one entry per layer, dated as the image.
   */
  static List<Entry> of(byte[] config, Manifest.Image manifest) throws IOException {
    JsonNode cfg = JSON.readTree(config);
    Instant imageCreated = Materialiser.parseTime(cfg.path("created").asText(null));
    List<Descriptor> layers = manifest.layers();
    List<Entry> out = new ArrayList<>();
    int layer = 0;
    for (JsonNode h : cfg.path("history")) {
      boolean empty = h.path("empty_layer").asBoolean(false);
      long size = 0;
      if (!empty) {
        if (layer >= layers.size()) {
          throw new ImageException(
              "image config's history names more layers than the manifest's "
                  + layers.size()
                  + "; the image is malformed");
        }
        size = layers.get(layer++).size();
      }
      out.add(
          new Entry(
              Materialiser.parseTime(h.path("created").asText(null)),
              h.path("created_by").asText(""),
              h.path("comment").asText(""),
              empty,
              size));
    }
    if (out.isEmpty()) {
      for (Descriptor d : layers) {
        out.add(new Entry(imageCreated, "", "", false, d.size()));
      }
    }
    return out;
  }
}
