package dev.inferno.kiln.firecracker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Writes `firecracker` and `jailer` executables that run the fakes in a fresh JVM. */
final class FakeBinaries {
  private FakeBinaries() {}

  static Path write(Path bin, String name, Class<?> main, Path requestLog) throws IOException {
    return write(bin, name, main, requestLog, java.util.Map.of());
  }

  /** As above, with more environment for the fake (e.g. FAKE_FC_METRICS_PERIOD_MS). */
  static Path write(
      Path bin, String name, Class<?> main, Path requestLog, java.util.Map<String, String> env)
      throws IOException {
    Files.createDirectories(bin);
    StringBuilder vars = new StringBuilder();
    env.forEach((k, v) -> vars.append(k).append("='").append(v).append("' "));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String script =
        "#!/bin/sh\n"
            + (requestLog == null ? "" : "FAKE_FC_LOG='" + requestLog + "' ")
            + vars
            + "exec '"
            + java
            + "' -XX:TieredStopAtLevel=1 -Xshare:auto --enable-native-access=ALL-UNNAMED -cp '"
            + System.getProperty("java.class.path")
            + "' "
            + main.getName()
            + " \"$@\"\n";
    Path p = bin.resolve(name);
    Files.writeString(p, script);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    return p;
  }
}
