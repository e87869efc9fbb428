package dev.inferno.cli;

import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * {@code inferno cp}: files and directories between the host and a running VM, with docker cp's
 * rules for where a copy lands (decided from the destination's stat). The tar is built and unpacked
 * here, as the invoking user ({@link Tar}); the daemon only relays it.
 */
final class CpCommand implements Verb {
  /** A copy to or from the VM's file system: one of the two operands. */
  private record VmPath(String vm, String path) {}

  /** Docker's FileMode bits in the stat JSON. */
  private static final long MODE_DIR = 1L << 31;

  private final PositionalParamSpec srcParam =
      Verb.positional("0", "1", "SRC", "VM:PATH or a host path");
  private final PositionalParamSpec dstParam =
      // 0..1 so that picocli reports an unknown option before a missing DST; run() requires it
      Verb.positional("1", "0..1", "DST", "a host path or VM:PATH");

  @Override
  public CommandSpec spec() {
    return Verb.command(
            this,
            "cp",
            "Copy files or directories between a running VM and the host (VM:PATH on one side).")
        .addPositional(srcParam)
        .addPositional(dstParam);
  }

  @Override
  public int run() throws Exception {
    String src = srcParam.getValue();
    String dst = dstParam.getValue();
    if (dst == null) {
      throw CliException.badInput("cp needs SRC and DST: inferno cp VM:PATH HOSTPATH, or back");
    }
    VmPath from = vmPath(src);
    VmPath to = vmPath(dst);
    if (from != null && to != null) {
      throw CliException.badInput("copying between VMs is not supported: copy through the host");
    }
    if (from == null && to == null) {
      throw CliException.badInput("one of SRC and DST must be VM:PATH");
    }
    DaemonClient client = Main.client();
    if (from != null) {
      return fromVm(client, from, Path.of(dst), dst.endsWith("/"));
    }
    return toVm(client, Path.of(src), to);
  }

  /** VM:PATH, or null for a host path (one that starts with / or . or has no colon). */
  private static VmPath vmPath(String arg) {
    int colon = arg.indexOf(':');
    if (arg.startsWith("/") || arg.startsWith(".") || colon <= 0) {
      return null;
    }
    String path = arg.substring(colon + 1);
    if (path.isEmpty()) {
      throw CliException.badInput("no path after the ':' in " + arg + ": give VM:PATH");
    }
    // docker cp: a VM path is relative to the VM's root
    return new VmPath(arg.substring(0, colon), path.startsWith("/") ? path : "/" + path);
  }

  private static String archive(VmPath p) {
    return "/v1/vms/" + DaemonClient.enc(p.vm()) + "/archive?path=" + DaemonClient.enc(p.path());
  }

  /** The stat JSON of a path in the VM, or null when it does not exist. */
  private static Map<String, Object> stat(DaemonClient client, VmPath p) throws IOException {
    UnixHttpClient.Response r = client.send("HEAD", archive(p), null);
    try (r) {
      if (r.status() == 404) {
        // (a HEAD has no body: the 404 of an unknown VM reads like a missing path)
        return null;
      }
      if (r.status() == 409) {
        throw new CliException(
            "VM "
                + p.vm()
                + " is not running: cp works on a running VM only (the guest has its disk)");
      }
      if (r.status() != 200) {
        throw new CliException(
            "the daemon answered " + r.status() + " for " + p.vm() + ":" + p.path());
      }
      String header = r.headers().get("x-inferno-path-stat");
      if (header == null) {
        throw new CliException("the daemon sent no X-Inferno-Path-Stat for " + p.path());
      }
      return Json.parseObject(
          new String(Base64.getDecoder().decode(header), StandardCharsets.UTF_8));
    }
  }

  private static boolean isDir(Map<String, Object> stat) {
    return stat.get("mode") instanceof Number n && (n.longValue() & MODE_DIR) != 0;
  }

  private static String base(String path) {
    String p = path;
    while (p.length() > 1 && p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p.substring(p.lastIndexOf('/') + 1);
  }

  private static String parent(String path) {
    String p = path;
    while (p.length() > 1 && p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    int slash = p.lastIndexOf('/');
    return slash <= 0 ? "/" : p.substring(0, slash);
  }

  /** VM → host: into DST if it is a directory, else as DST (a new name, or replacing a file). */
  private static int fromVm(DaemonClient client, VmPath from, Path dst, boolean dstIsDirSyntax)
      throws IOException {
    Map<String, Object> stat = stat(client, from);
    if (stat == null) {
      throw new CliException("Could not find the file " + from.path() + " in VM " + from.vm());
    }
    boolean srcDir = isDir(stat);
    Path dir;
    String rename;
    if (Files.isDirectory(dst)) {
      dir = dst;
      rename = null;
    } else if (Files.exists(dst, LinkOption.NOFOLLOW_LINKS)) {
      if (srcDir) {
        throw CliException.badInput("cannot copy a directory to a file: " + dst);
      }
      dir = parentOf(dst);
      rename = dst.getFileName().toString();
    } else {
      if (dstIsDirSyntax && !srcDir) {
        throw CliException.badInput(
            dst + ": no such directory (a file is copied into an existing one)");
      }
      dir = parentOf(dst);
      if (!Files.isDirectory(dir)) {
        throw CliException.badInput(dir + ": no such directory");
      }
      rename = dst.getFileName().toString();
    }
    UnixHttpClient.Response r = client.send("GET", archive(from), null);
    if (r.status() != 200) {
      throw DaemonClient.error(r);
    }
    try (r) {
      Tar.extract(r.body(), dir, rename);
    }
    return 0;
  }

  private static Path parentOf(Path p) {
    Path parent = p.toAbsolutePath().getParent();
    return parent == null ? Path.of("/") : parent;
  }

  /** host → VM: into DST if it is a directory, else as DST (its parent must exist). */
  private static int toVm(DaemonClient client, Path src, VmPath to) throws IOException {
    if (!Files.exists(src, LinkOption.NOFOLLOW_LINKS)) {
      throw CliException.badInput(src + ": no such file or directory");
    }
    boolean srcDir = Files.isDirectory(src, LinkOption.NOFOLLOW_LINKS);
    Map<String, Object> stat = stat(client, to);
    String dir;
    String root;
    String srcName =
        src.toAbsolutePath().normalize().getFileName() == null
            ? "/"
            : src.toAbsolutePath().normalize().getFileName().toString();
    if (stat != null && isDir(stat)) {
      dir = to.path();
      root = srcName;
    } else if (stat != null) {
      if (srcDir) {
        throw CliException.badInput("cannot copy a directory to a file: " + to.path());
      }
      dir = parent(to.path());
      root = base(to.path());
    } else {
      if (to.path().endsWith("/") && !srcDir) {
        throw CliException.badInput(
            to.path()
                + ": no such directory in VM "
                + to.vm()
                + " (a file is copied into an existing one)");
      }
      dir = parent(to.path());
      Map<String, Object> parentStat = stat(client, new VmPath(to.vm(), dir));
      if (parentStat == null || !isDir(parentStat)) {
        throw new CliException(dir + ": no such directory in VM " + to.vm());
      }
      root = base(to.path());
    }
    PipedInputStream in = new PipedInputStream(1 << 16);
    PipedOutputStream out = new PipedOutputStream(in);
    CompletableFuture<Void> written = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(() -> {
          try (out) {
            Tar.write(src, root, out);
            written.complete(null);
          } catch (IOException | RuntimeException e) {
            written.completeExceptionally(e);
          }
        });
    UnixHttpClient.Response r;
    try {
      r = client.send("PUT", archive(new VmPath(to.vm(), dir)), "application/x-tar", in, -1);
    } finally {
      in.close(); // the writer, if still going, fails and stops
    }
    if (r.status() != 200) {
      throw DaemonClient.error(r); // the guest's reason (the writer stopped with the pipe)
    }
    r.close();
    try {
      written.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw new CliException("reading " + src + " failed: " + e.getCause().getMessage());
    }
    return 0;
  }
}
