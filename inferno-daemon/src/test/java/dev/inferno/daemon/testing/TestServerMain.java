package dev.inferno.daemon.testing;

import dev.inferno.daemon.Daemon;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.config.ConfigFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A daemon for the CLI's tests, run as a subprocess from the test classpath: the real API server,
 * store and services, with test doubles for kiln (each VM is a host process) and the registry
 * (images in memory). Not part of the product: it lives in the daemon's test-jar.
 *
 * <p>Usage: {@code TestServerMain STATE_DIR SOCKET IMAGE[,IMAGE…]}
 */
public final class TestServerMain {
  private TestServerMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: TestServerMain STATE_DIR SOCKET IMAGE[,IMAGE...]");
      System.exit(2);
    }
    Map<String, String> s = ConfigFile.read(null);
    s.put("state-dir", args[0]);
    s.put("socket", args[1]);
    // the Docker API beside it, as docker.sock in the socket's directory
    s.put("docker-socket", java.nio.file.Path.of(args[1]).resolveSibling("docker.sock").toString());
    MemoryImageBackend images = new MemoryImageBackend();
    for (String ref : args[2].split(",", -1)) {
      images.publish(ref, List.of("sh"));
    }
    Daemon d =
        Daemon.start(
            ConfigFile.build(s),
            images,
            new ProcessVmBackend(),
            PeerPolicy.standard("inferno", Path.of("/etc/group")),
            TestNetworks.settings());
    // registered before serveUntilExit's: hooks run concurrently, this one cleans what is left
    Runtime.getRuntime().addShutdownHook(new Thread(TestNetworks::cleanUp));
    d.serveUntilExit();
  }
}
