package dev.inferno.image;

import dev.inferno.image.store.BlobStore;
import java.io.IOException;

/**
 * Deletes blobs and disks that no image record keeps. Collection and removal are serialised against
 * materialisation, so a blob is never collected while a pull or load still needs it.
 */
final class GarbageCollector {
  private final ImageRecords records;
  private final BlobStore blobs;
  private final ImageDisks disks;
  private final Object lock = new Object();
  private int materialising;

  GarbageCollector(ImageRecords records, BlobStore blobs, ImageDisks disks) {
    this.records = records;
    this.blobs = blobs;
    this.disks = disks;
  }

  /** A pull or load starts storing blobs: nothing is collected until {@link #endUse}. */
  void beginUse() {
    synchronized (lock) {
      materialising++;
    }
  }

  void endUse() {
    synchronized (lock) {
      materialising--;
    }
  }

  /**
   * Runs a removal of records under the lock, then, when {@code collect} and no pull or load is
   * storing blobs, collects what no record keeps any more.
   */
  void removeThenCollect(Runnable removal, boolean collect) {
    synchronized (lock) {
      removal.run();
      if (collect && materialising == 0) {
        collect();
      }
    }
  }

  private void collect() {
    ImageRecords.Kept kept = records.kept();
    try {
      blobs.retainOnly(kept.blobs());
      disks.retainOnly(kept.disks());
    } catch (IOException e) {
      throw new ImageException("cannot collect unused image data: " + e.getMessage(), e);
    }
  }
}
