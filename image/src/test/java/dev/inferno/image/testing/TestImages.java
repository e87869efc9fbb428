package dev.inferno.image.testing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.image.testing.OciLayout.Compression;
import dev.inferno.image.testing.OciLayout.Layer;
import java.nio.file.Path;
import java.util.List;

/** The test images, built from the host's busybox-static. */
public final class TestImages {
  public static final Path BUSYBOX = Path.of("/bin/busybox");

  private TestImages() {}

  public static ObjectNode config(String... cmd) {
    ObjectNode c = OciLayout.JSON.createObjectNode();
    c.putArray("Env").add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    var a = c.putArray("Cmd");
    for (String s : cmd) {
      a.add(s);
    }
    c.put("WorkingDir", "/");
    c.put("StopSignal", "SIGQUIT");
    return c;
  }

  /** Base layer: busybox, its applet symlinks, and things for later layers to hide. */
  public static byte[] base() {
    return new TarBuilder()
        .dir("bin", 0755)
        .hostFile("bin/busybox", 0755, BUSYBOX)
        .symlink("bin/sh", "busybox")
        .symlink("bin/ls", "/bin/busybox")
        .symlink("bin/echo", "busybox")
        .hardlink("bin/busybox-hl", "bin/busybox")
        .dir("etc", 0755)
        .file("etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\n")
        .file("etc/group", 0644, "root:x:0:\n")
        .dir("tmp", 01777)
        .dir("dev", 0755)
        .charDevice("dev/null", 0666, 1, 3)
        .fifo("dev/fifo", 0600)
        .file(
            "usr/bin/suid",
            04755,
            "#!/bin/sh\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
            0,
            0)
        .file(
            "home/user/owned",
            0600,
            "mine\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
            1000,
            1001)
        .fileWithXattr("etc/xattr", "x\n", "user.inferno", "hello")
        .dir("opq", 0755)
        .file("opq/a", 0644, "a\n")
        .file("opq/b", 0644, "b\n")
        .dir("gone", 0755)
        .file("gone/inner", 0644, "inner\n")
        .file("remove-me", 0644, "bye\n")
        .build();
  }

  /** Second layer: whiteouts, an opaque dir, a replaced file. */
  public static byte[] second() {
    return new TarBuilder()
        .dir("opq", 0755)
        .opaque("opq")
        .file("opq/c", 0644, "c\n")
        .whiteout("gone")
        .whiteout("remove-me")
        .file(
            "etc/passwd",
            0644,
            "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1001::/home/user:/bin/sh\n")
        .file("etc/hostname", 0644, "inferno\n")
        .build();
  }

  public static byte[] third(String arch) {
    return new TarBuilder().file("arch", 0644, arch + "\n").build();
  }

  /** busybox with three layers (gzip, zstd, plain). */
  public static List<Layer> layers(String arch) {
    return List.of(
        new Layer(base(), Compression.GZIP),
        new Layer(second(), Compression.ZSTD),
        new Layer(third(arch), Compression.NONE));
  }

  /**
   * Writes a layout with tags {@code 1} (amd64 image), {@code multi} (index: amd64 + arm64) and
   * {@code gzip} (gzip-only, for Docker v2s2 which has no zstd).
   */
  public static OciLayout busyboxLayout(Path dir) {
    OciLayout l = new OciLayout(dir);
    ObjectNode amd64 = l.image(layers("amd64"), "amd64", config("/bin/sh", "-c", "echo hi"));
    ObjectNode arm64 = l.image(layers("arm64"), "arm64", config("/bin/sh"));
    l.tag("1", amd64);
    l.tag("multi", l.index(List.of(amd64, arm64)));
    l.tag(
        "gzip",
        l.image(
            List.of(
                new Layer(base(), Compression.GZIP),
                new Layer(second(), Compression.GZIP),
                new Layer(third("amd64"), Compression.GZIP)),
            "amd64",
            config("/bin/echo", "v2s2")));
    return l;
  }
}
