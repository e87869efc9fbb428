package dev.inferno.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.ImageRef;
import dev.inferno.image.registry.Descriptor;
import dev.inferno.image.registry.Manifest;
import dev.inferno.image.registry.MediaTypes;
import dev.inferno.image.store.BlobStore;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * {@code inferno save} / {@code docker save}: a tar of stored images in the layout docker 25+
 * writes, which {@code docker load} and {@link ArchiveLoader} both read: {@code oci-layout}, {@code
 * index.json} (one manifest descriptor per reference), {@code blobs/sha256/<hex>} (manifests,
 * configs and layers as stored, each once), docker's {@code manifest.json} and {@code
 * repositories}. The manifest is the stored one, byte for byte, so a load gives the same digest.
 */
final class ArchiveSaver {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NAME_ANNOTATION = "io.containerd.image.name";
  private static final String REF_ANNOTATION = "org.opencontainers.image.ref.name";
  private static final long MAX_MANIFEST = 4 << 20;

  /** One image to save and the tags it is saved under (none when named by digest or id). */
  record Selected(Image image, List<ImageRef> tags) {
    Selected {
      tags = List.copyOf(tags);
    }
  }

  /** An image whose blobs are all open: a removal from now on cannot take them away. */
  private record Opened(
      Image image, List<ImageRef> tags, Manifest.Image manifest, List<Descriptor> blobs) {}

  private final BlobStore blobs;

  ArchiveSaver(BlobStore blobs) {
    this.blobs = blobs;
  }

  /**
   * Writes the archive to {@code out}. Every blob is opened before the first byte is written, so an
   * image with a missing blob fails with nothing written, and a concurrent removal cannot cut the
   * archive short. Layers are copied from their files, never held in memory.
   */
  void save(List<Selected> images, OutputStream out) throws IOException {
    Map<Digest, FileChannel> open = new LinkedHashMap<>();
    try {
      List<Opened> opened = new ArrayList<>();
      for (Selected s : images) {
        opened.add(open(s, open));
      }
      write(opened, open, out);
    } finally {
      for (FileChannel ch : open.values()) {
        ch.close();
      }
    }
  }

  private Opened open(Selected s, Map<Digest, FileChannel> open) throws IOException {
    Image image = s.image();
    byte[] bytes = read(open(image, image.manifestDigest(), open));
    Manifest m = Manifest.parse(bytes, image.manifestDigest(), null);
    if (!(m instanceof Manifest.Image manifest)) {
      throw new ImageException(
          "image " + name(image) + " is stored with an index as its manifest; cannot save it");
    }
    List<Descriptor> all = new ArrayList<>();
    all.add(new Descriptor(manifest.mediaType(), image.manifestDigest(), bytes.length, null));
    all.add(manifest.config());
    all.addAll(manifest.layers());
    for (Descriptor d : all.subList(1, all.size())) {
      open(image, d.digest(), open);
    }
    return new Opened(image, s.tags(), manifest, all);
  }

  private FileChannel open(Image image, Digest d, Map<Digest, FileChannel> open)
      throws IOException {
    FileChannel ch = open.get(d);
    if (ch != null) {
      return ch;
    }
    try {
      ch = FileChannel.open(blobs.path(d), StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new ImageException(
          "cannot save image "
              + name(image)
              + ": its blob "
              + d
              + " is missing from the image store (remove the image and pull or load it again)");
    }
    open.put(d, ch);
    return ch;
  }

  /** A manifest's bytes (positional reads: the channel stays open, at its start). */
  private static byte[] read(FileChannel ch) throws IOException {
    if (ch.size() > MAX_MANIFEST) {
      throw new ImageException("stored manifest of " + ch.size() + " bytes is implausibly large");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) ch.size());
    while (buf.hasRemaining() && ch.read(buf, buf.position()) >= 0) {
      // until full
    }
    return buf.array();
  }

  /** Copies a blob's bytes into the current entry, a buffer at a time. */
  private static void copy(FileChannel ch, OutputStream out) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    long pos = 0;
    for (int n = ch.read(buf, pos); n >= 0; n = ch.read(buf, pos)) {
      out.write(buf.array(), 0, n);
      pos += n;
      buf.clear();
    }
  }

  private static String name(Image image) {
    return image.references().isEmpty()
        ? image.manifestDigest().toString()
        : image.references().getFirst();
  }

  private static void write(List<Opened> images, Map<Digest, FileChannel> open, OutputStream sink)
      throws IOException {
    BufferedOutputStream buffered = new BufferedOutputStream(sink, 1 << 16);
    TarArchiveOutputStream tar = new TarArchiveOutputStream(buffered, "UTF-8");
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    file(tar, "oci-layout", JSON.writeValueAsBytes(ociLayout()));
    file(tar, "index.json", JSON.writeValueAsBytes(index(images)));
    file(tar, "manifest.json", JSON.writeValueAsBytes(dockerManifest(images)));
    ObjectNode repositories = repositories(images);
    if (!repositories.isEmpty()) {
      file(tar, "repositories", JSON.writeValueAsBytes(repositories));
    }
    dir(tar, "blobs/");
    dir(tar, "blobs/sha256/");
    Set<Digest> written = new LinkedHashSet<>();
    for (Opened o : images) {
      for (Descriptor d : o.blobs()) {
        if (written.add(d.digest())) {
          FileChannel ch = open.get(d.digest());
          TarArchiveEntry e = entry(blobPath(d.digest()), ch.size());
          tar.putArchiveEntry(e);
          copy(ch, tar);
          tar.closeArchiveEntry();
        }
      }
    }
    tar.finish();
    buffered.flush();
  }

  private static ObjectNode ociLayout() {
    ObjectNode n = JSON.createObjectNode();
    n.put("imageLayoutVersion", "1.0.0");
    return n;
  }

  /** One descriptor per reference (docker 25's), or one without a name for an untagged image. */
  private static ObjectNode index(List<Opened> images) {
    ObjectNode index = JSON.createObjectNode();
    index.put("schemaVersion", 2);
    index.put("mediaType", MediaTypes.OCI_INDEX);
    ArrayNode manifests = index.putArray("manifests");
    for (Opened o : images) {
      Descriptor m = o.blobs().getFirst();
      if (o.tags().isEmpty()) {
        manifests.add(descriptor(m));
      }
      for (ImageRef tag : o.tags()) {
        ObjectNode d = descriptor(m);
        d.putObject("annotations")
            .put(NAME_ANNOTATION, tag.toString())
            .put(REF_ANNOTATION, tag.tag());
        manifests.add(d);
      }
    }
    return index;
  }

  /** docker's manifest.json: one entry per image, paths into blobs/. */
  private static ArrayNode dockerManifest(List<Opened> images) {
    ArrayNode list = JSON.createArrayNode();
    for (Opened o : images) {
      ObjectNode e = list.addObject();
      e.put("Config", blobPath(o.manifest().config().digest()));
      if (o.tags().isEmpty()) {
        e.putNull("RepoTags"); // as docker writes an image saved by id
      } else {
        ArrayNode tags = e.putArray("RepoTags");
        o.tags().forEach(t -> tags.add(t.familiar()));
      }
      ArrayNode layers = e.putArray("Layers");
      o.manifest().layers().forEach(l -> layers.add(blobPath(l.digest())));
    }
    return list;
  }

  /** The legacy {@code repositories}: name → tag → the top layer's id, as docker 25 writes it. */
  private static ObjectNode repositories(List<Opened> images) {
    ObjectNode repos = JSON.createObjectNode();
    for (Opened o : images) {
      List<Descriptor> layers = o.manifest().layers();
      if (layers.isEmpty()) {
        continue;
      }
      for (ImageRef tag : o.tags()) {
        String familiar = tag.familiar(); // name:tag
        String name = familiar.substring(0, familiar.length() - tag.tag().length() - 1);
        ObjectNode byTag = repos.has(name) ? (ObjectNode) repos.get(name) : repos.putObject(name);
        byTag.put(tag.tag(), layers.getLast().digest().hex());
      }
    }
    return repos;
  }

  private static ObjectNode descriptor(Descriptor d) {
    ObjectNode n = JSON.createObjectNode();
    n.put("mediaType", d.mediaType());
    n.put("digest", d.digest().toString());
    n.put("size", d.size());
    return n;
  }

  private static String blobPath(Digest d) {
    return "blobs/" + d.algorithm() + "/" + d.hex();
  }

  private static void file(TarArchiveOutputStream tar, String name, byte[] bytes)
      throws IOException {
    tar.putArchiveEntry(entry(name, bytes.length));
    tar.write(bytes);
    tar.closeArchiveEntry();
  }

  private static void dir(TarArchiveOutputStream tar, String name) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setMode(040755);
    e.setModTime(0);
    tar.putArchiveEntry(e);
    tar.closeArchiveEntry();
  }

  /** Owner root, mode 0644, time 0: the same images give the same bytes. */
  private static TarArchiveEntry entry(String name, long size) {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(size);
    e.setMode(0100644);
    e.setModTime(0);
    return e;
  }
}
