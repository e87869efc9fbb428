package dev.inferno.kiln.vm;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;

/**
 * The per-VM initramfs: a newc cpio holding /inferno/init (0755) and /inferno/run.json, plus
 * /dev/console so the kernel can give PID 1 its stdio before anything is mounted. Entries are owned
 * by root with mtime 0, so the same inputs give the same bytes.
 */
public final class Initramfs {
  private final List<Entry> entries = new ArrayList<>();

  private sealed interface Entry permits Dir, File, CharDevice {}

  private record Dir(String name, int mode) implements Entry {}

  private record File(String name, int mode, byte[] content) implements Entry {}

  private record CharDevice(String name, int mode, int major, int minor) implements Entry {}

  /** The standard per-VM initramfs. */
  public static void write(Path out, Path init, String runConfigJson) throws IOException {
    if (!Files.isRegularFile(init)) {
      throw new VmmException(
          "init binary " + init + " does not exist: build it (init/) or set init in the config");
    }
    new Initramfs()
        .dir("dev", 0755)
        .charDevice("dev/console", 0600, 5, 1)
        .dir("inferno", 0755)
        .file("inferno/init", 0755, Files.readAllBytes(init))
        .file("inferno/run.json", 0644, runConfigJson.getBytes(StandardCharsets.UTF_8))
        .writeTo(out);
  }

  public Initramfs dir(String name, int mode) {
    entries.add(new Dir(name, mode));
    return this;
  }

  public Initramfs file(String name, int mode, byte[] content) {
    entries.add(new File(name, mode, content.clone()));
    return this;
  }

  public Initramfs charDevice(String name, int mode, int major, int minor) {
    entries.add(new CharDevice(name, mode, major, minor));
    return this;
  }

  public void writeTo(Path out) throws IOException {
    try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out));
        CpioArchiveOutputStream cpio =
            new CpioArchiveOutputStream(os, CpioConstants.FORMAT_NEW, 512, "US-ASCII")) {
      long ino = 1;
      for (Entry e : entries) {
        CpioArchiveEntry ce;
        switch (e) {
          case Dir d -> {
            ce = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, d.name(), 0);
            ce.setMode(CpioConstants.C_ISDIR | d.mode());
            ce.setNumberOfLinks(2);
          }
          case File f -> {
            ce = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, f.name(), f.content().length);
            ce.setMode(CpioConstants.C_ISREG | f.mode());
            ce.setNumberOfLinks(1);
          }
          case CharDevice c -> {
            ce = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, c.name(), 0);
            ce.setMode(CpioConstants.C_ISCHR | c.mode());
            ce.setRemoteDeviceMaj(c.major());
            ce.setRemoteDeviceMin(c.minor());
            ce.setNumberOfLinks(1);
          }
        }
        ce.setInode(ino++);
        ce.setUID(0);
        ce.setGID(0);
        ce.setTime(0);
        cpio.putArchiveEntry(ce);
        if (e instanceof File f) {
          cpio.write(f.content());
        }
        cpio.closeArchiveEntry();
      }
      cpio.finish();
    }
  }
}
