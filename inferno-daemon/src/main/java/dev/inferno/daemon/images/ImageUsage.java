package dev.inferno.daemon.images;

import dev.inferno.sys.FileNodes;
import dev.inferno.sys.SyscallException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What the stored images take on the host's disk, from the blocks their files really allocate
 * (blobs and disks: {@code ImageBackend.files}).
 *
 * @param totalBytes every file any image keeps, each once (Docker's {@code LayersSize})
 * @param images by manifest digest: each image's files and the part of them another image keeps too
 */
public record ImageUsage(long totalBytes, Map<String, Share> images) {
  public ImageUsage {
    images = Map.copyOf(images);
  }

  /**
   * One image's part.
   *
   * @param sizeBytes what its files allocate
   * @param sharedBytes what of that another image keeps too (a common layer's blob, the disk of an
   *     image with the same config)
   */
  public record Share(long sizeBytes, long sharedBytes) {}

  /** An image no file of which could be read (gone meanwhile): nothing. */
  public static final Share NONE = new Share(0, 0);

  public Share of(String manifestDigest) {
    return images.getOrDefault(manifestDigest, NONE);
  }

  /** Measures {@code files} (manifest digest → the files that image keeps). */
  static ImageUsage measure(Map<String, Set<Path>> files) {
    Map<Path, Integer> keepers = new HashMap<>();
    files.values().forEach(fs -> fs.forEach(f -> keepers.merge(f, 1, Integer::sum)));
    Map<Path, Long> bytes = new HashMap<>();
    keepers.keySet().forEach(f -> bytes.put(f, allocated(f)));
    Map<String, Share> out = new LinkedHashMap<>();
    files.forEach((image, fs) -> {
      long size = 0;
      long shared = 0;
      for (Path f : fs) {
        size += bytes.get(f);
        shared += keepers.get(f) > 1 ? bytes.get(f) : 0;
      }
      out.put(image, new Share(size, shared));
    });
    long total = bytes.values().stream().mapToLong(Long::longValue).sum();
    return new ImageUsage(total, out);
  }

  /** A file's allocated bytes; one that is gone or unreadable counts nothing. */
  private static long allocated(Path f) {
    try {
      return FileNodes.allocatedBytes(f).orElse(0);
    } catch (SyscallException e) {
      return 0;
    }
  }
}
