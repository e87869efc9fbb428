package dev.inferno.daemon.network;

import java.io.IOException;
import java.util.List;

/** Helpers of the network tests. */
final class NetTesting {
  private NetTesting() {}

  static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Runs a command, returns its stdout; fails with its stderr. */
  static String sh(String... cmd) throws IOException {
    return Commands.run(List.of(cmd), "");
  }

  /** Runs a command, ignoring failure: cleanup of what may already be gone. */
  static void quietly(String... cmd) {
    try {
      sh(cmd);
    } catch (IOException e) {
      // already gone
    }
  }
}
