package dev.inferno.image.store;

import dev.inferno.image.ref.Digest;
import dev.inferno.image.registry.DigestMismatchException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Content-addressed blobs under {@code <root>/sha256/<hex>}. A blob is written to a temp file,
 * verified against its digest and size, and only then renamed into place: whatever is in the store
 * is what its name says.
 */
public final class BlobStore {
  private final Path root;
  private final Path tmp;

  /** A writer of a blob's bytes; {@link BlobStore#put} checks what it wrote. */
  @FunctionalInterface
  public interface Writer {
    void writeTo(OutputStream out) throws IOException;
  }

  public BlobStore(Path root, Path tmp) {
    this.root = root;
    this.tmp = tmp;
    try {
      Files.createDirectories(root.resolve("sha256"));
      Files.createDirectories(tmp);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create blob store at " + root, e);
    }
  }

  public Path path(Digest d) {
    return root.resolve(d.algorithm()).resolve(d.hex());
  }

  public boolean has(Digest d) {
    return Files.isRegularFile(path(d));
  }

  /**
   * Writes a blob through {@code writer}, verifying digest and (if {@code size >= 0}) size before
   * it becomes visible. Returns its path.
   */
  public Path put(Digest d, long size, Writer writer) throws IOException {
    Path target = path(d);
    if (Files.isRegularFile(target)) {
      return target;
    }
    Files.createDirectories(target.getParent());
    Path t = tmp.resolve("blob-" + d.hex().substring(0, 12) + "-" + UUID.randomUUID());
    try {
      MessageDigest md = d.newHasher();
      long n;
      try (var out = new HashingOutput(Files.newOutputStream(t), md)) {
        writer.writeTo(out);
        n = out.count;
      }
      if (size >= 0 && n != size) {
        throw new DigestMismatchException(
            "blob " + d + " has " + n + " bytes, expected " + size + "; not stored");
      }
      if (!d.matches(md)) {
        throw new DigestMismatchException(
            "blob content does not match its digest " + d + "; not stored");
      }
      try {
        Files.move(t, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(t, target, StandardCopyOption.REPLACE_EXISTING);
      }
      return target;
    } finally {
      Files.deleteIfExists(t);
    }
  }

  public Path put(Digest d, byte[] bytes) throws IOException {
    return put(d, bytes.length, out -> out.write(bytes));
  }

  public byte[] read(Digest d) throws IOException {
    return Files.readAllBytes(path(d));
  }

  public InputStream open(Digest d) throws IOException {
    return Files.newInputStream(path(d));
  }

  /** Removes every blob not in {@code keep}; returns how many were removed. */
  public int retainOnly(Set<Digest> keep) throws IOException {
    int removed = 0;
    Path dir = root.resolve("sha256");
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String hex = p.getFileName().toString();
        boolean kept;
        try {
          kept = keep.contains(new Digest("sha256", hex));
        } catch (IllegalArgumentException e) {
          kept = false;
        }
        if (!kept) {
          Files.deleteIfExists(p);
          removed++;
        }
      }
    }
    return removed;
  }

  private static final class HashingOutput extends FilterOutputStream {
    private final MessageDigest md;
    long count;

    HashingOutput(OutputStream out, MessageDigest md) {
      super(out);
      this.md = md;
    }

    @Override
    public void write(int b) throws IOException {
      md.update((byte) b);
      count++;
      out.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      md.update(b, off, len);
      count += len;
      out.write(b, off, len);
    }
  }
}
