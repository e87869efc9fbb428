package dev.inferno.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
  @TempDir Path tmp;

  @Test
  void deletesATreeButNotWhatItsSymlinksPointAt() throws Exception {
    Path outside = Files.createDirectories(tmp.resolve("outside/dir"));
    Files.writeString(outside.resolve("keep"), "x");
    Path tree = Files.createDirectories(tmp.resolve("tree/a/b"));
    Files.writeString(tree.resolve("f"), "y");
    Files.createSymbolicLink(tmp.resolve("tree/a/to-dir"), outside);
    Files.createSymbolicLink(tmp.resolve("tree/to-file"), outside.resolve("keep"));
    Files.createSymbolicLink(tmp.resolve("tree/dangling"), tmp.resolve("nowhere"));

    FileTrees.delete(tmp.resolve("tree"));

    assertThat(tmp.resolve("tree")).doesNotExist();
    assertThat(outside.resolve("keep")).hasContent("x");
  }

  @Test
  void aSymlinkGivenAsTheTreeIsRemovedNotFollowed() throws Exception {
    Path target = Files.createDirectories(tmp.resolve("target"));
    Files.writeString(target.resolve("keep"), "x");
    Path link = Files.createSymbolicLink(tmp.resolve("link"), target);

    FileTrees.delete(link);

    assertThat(Files.exists(link, LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(target.resolve("keep")).hasContent("x");
  }

  @Test
  void aMissingPathAndAPlainFileAreFine() throws Exception {
    FileTrees.delete(tmp.resolve("never-was"));
    Path f = Files.writeString(tmp.resolve("f"), "x");
    FileTrees.delete(f);
    assertThat(f).doesNotExist();
  }

  /**
   * A layer's {@code 0555} and {@code 0000} directories. Root ignores modes, so as root the delete
   * runs in a child JVM as nobody (setpriv), where it fails without the helper opening them up.
   */
  @Test
  void readOnlyAndUnreadableDirectoriesAreDeleted() throws Exception {
    Path tree = Files.createDirectories(tmp.resolve("tree/ro/inner"));
    Files.writeString(tree.resolve("f"), "x");
    Files.createDirectories(tmp.resolve("tree/locked/sub"));
    Files.writeString(tmp.resolve("tree/locked/sub/g"), "y");
    Files.setPosixFilePermissions(tree, PosixFilePermissions.fromString("r-xr-xr-x"));
    Files.setPosixFilePermissions(
        tmp.resolve("tree/ro"), PosixFilePermissions.fromString("r-xr-xr-x"));
    Files.setPosixFilePermissions(
        tmp.resolve("tree/locked"), PosixFilePermissions.fromString("---------"));

    if (Users.isRoot()) {
      try (var all = Files.walk(tmp.resolve("tree"))) {
        for (Path p : all.toList()) {
          Ownership.lchown(p, 65534, 65534);
        }
      }
      // so that nobody may remove tree/ itself
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
      Process child =
          new ProcessBuilder(
                  List.of(
                      "setpriv",
                      "--reuid=65534",
                      "--regid=65534",
                      "--clear-groups",
                      ProcessHandle.current().info().command().orElseThrow(),
                      "-cp",
                      classpath(),
                      Child.class.getName(),
                      tmp.resolve("tree").toString()))
              .redirectErrorStream(true)
              .start();
      String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(child.exitValue()).as(out).isZero();
    } else {
      FileTrees.delete(tmp.resolve("tree"));
    }
    assertThat(tmp.resolve("tree")).doesNotExist();
  }

  private static String classpath() throws Exception {
    return Path.of(FileTrees.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        + File.pathSeparator
        + Path.of(Child.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  /** Deletes argv[0] as whoever runs it. */
  static final class Child {
    private Child() {}

    public static void main(String[] args) throws Exception {
      FileTrees.delete(Path.of(args[0]));
    }
  }
}
