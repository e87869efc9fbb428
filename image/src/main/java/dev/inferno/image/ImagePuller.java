package dev.inferno.image;

import dev.inferno.image.ref.ImageRef;
import dev.inferno.image.ref.Platform;
import dev.inferno.image.registry.Descriptor;
import dev.inferno.image.registry.Manifest;
import dev.inferno.image.registry.ManifestException;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.image.store.BlobStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A pull: resolves the reference to a platform's image manifest (through an index when the registry
 * has one), then materialises it with layers streamed from the registry.
 */
final class ImagePuller {
  private final RegistryClient registry;
  private final BlobStore blobs;
  private final Materialiser materialiser;

  ImagePuller(RegistryClient registry, BlobStore blobs, Materialiser materialiser) {
    this.registry = registry;
    this.blobs = blobs;
    this.materialiser = materialiser;
  }

  Image pull(String reference, Platform platform, PullProgress progress) {
    ImageRef ref = ImageRef.parse(reference);
    Manifest m = registry.manifest(ref, ref.manifestReference());
    List<Manifest> extra = new ArrayList<>();
    if (m instanceof Manifest.Index idx) {
      Descriptor d = idx.select(platform);
      extra.add(idx);
      m = registry.manifest(ref, d.digest().toString());
      if (!(m instanceof Manifest.Image)) {
        throw new ManifestException(
            "index entry " + d.digest() + " for " + platform + " is not an image manifest");
      }
    }
    Manifest.Image img = (Manifest.Image) m;
    progress.on(new PullEvent.Resolved(ref.toString(), img.digest(), img.layers().size()));
    LayerFetcher.BlobSource fromRegistry =
        (d, onBytes) -> {
          try {
            blobs.put(d.digest(), d.size(), out -> registry.blob(ref, d, out, onBytes));
          } catch (IOException e) {
            throw new UncheckedIOException(
                "cannot store blob " + d.digest().shortHex() + ": " + e.getMessage(), e);
          }
        };
    // pulled by digest alone: nothing to name it by
    List<String> refs =
        ref.digest() != null && ref.tag() == null
            ? List.of()
            : List.of(ref.withDigest(null).toString());
    return materialiser.materialise(img, extra, fromRegistry, platform, refs, progress);
  }
}
