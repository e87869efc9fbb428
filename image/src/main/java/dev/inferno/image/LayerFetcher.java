package dev.inferno.image;

import dev.inferno.image.ref.Digest;
import dev.inferno.image.registry.Descriptor;
import dev.inferno.image.store.BlobStore;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.function.LongConsumer;

/**
 * Downloads an image's missing layers into the blob store, a few at once; a layer another pull is
 * already fetching is waited for, not fetched twice.
 */
final class LayerFetcher {
  /**
   * Where a layer's bytes come from: the registry for pulls, nowhere for loads (already stored).
   */
  @FunctionalInterface
  interface BlobSource {
    void fetch(Descriptor d, LongConsumer onBytes);
  }

  private final BlobStore blobs;
  private final int parallel;
  private final Map<Digest, CompletableFuture<Void>> downloading = new ConcurrentHashMap<>();

  LayerFetcher(BlobStore blobs, int parallel) {
    this.blobs = blobs;
    this.parallel = parallel;
  }

  /**
   * Starts downloading every missing layer (at most {@code parallel} at once) on {@code ex}; the
   * returned futures complete when each blob is verified and stored.
   */
  Map<Digest, CompletableFuture<Void>> start(
      List<Descriptor> layers, BlobSource source, PullProgress progress, Executor ex) {
    Semaphore slots = new Semaphore(parallel);
    Map<Digest, CompletableFuture<Void>> out = new LinkedHashMap<>();
    for (Descriptor l : layers) {
      if (out.containsKey(l.digest())) {
        continue; // the same layer twice in one image
      }
      if (blobs.has(l.digest())) {
        progress.on(
            new PullEvent.Layer(l.digest(), PullEvent.Phase.ALREADY_EXISTS, l.size(), l.size()));
        out.put(l.digest(), CompletableFuture.completedFuture(null));
        continue;
      }
      progress.on(new PullEvent.Layer(l.digest(), PullEvent.Phase.WAITING, 0, l.size()));
      CompletableFuture<Void> mine = new CompletableFuture<>();
      CompletableFuture<Void> theirs = downloading.putIfAbsent(l.digest(), mine);
      if (theirs != null) {
        out.put(l.digest(), theirs);
        continue;
      }
      out.put(l.digest(), mine);
      ex.execute(() -> {
        slots.acquireUninterruptibly();
        try {
          long[] last = {0};
          source.fetch(
              l,
              done -> {
                if (done - last[0] >= (512 << 10) || done == l.size()) {
                  last[0] = done;
                  progress.on(
                      new PullEvent.Layer(l.digest(), PullEvent.Phase.DOWNLOADING, done, l.size()));
                }
              });
          progress.on(
              new PullEvent.Layer(l.digest(), PullEvent.Phase.DOWNLOADED, l.size(), l.size()));
          mine.complete(null);
        } catch (Throwable t) {
          mine.completeExceptionally(t);
        } finally {
          downloading.remove(l.digest(), mine);
          slots.release();
        }
      });
    }
    return out;
  }

  /** Waits for one download; its failure is rethrown as it was, or as an ImageException. */
  static void await(CompletableFuture<Void> f) {
    try {
      f.join();
    } catch (CompletionException e) {
      Throwable c = e.getCause();
      throw c instanceof RuntimeException re
          ? re
          : new ImageException("layer download failed: " + c.getMessage(), c);
    }
  }
}
