package dev.inferno.daemon.stats;

import dev.inferno.daemon.Daemon;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.config.ConfigFile;
import dev.inferno.daemon.testing.MemoryImageBackend;
import dev.inferno.daemon.testing.ProcessVmBackend;
import dev.inferno.daemon.testing.TestNetworks;
import dev.inferno.model.HealthConfig;
import dev.inferno.model.http.UnixHttpClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A real daemon on a temp socket with the process backend (its VMs are host processes; the test
 * delivers their guest reports) and /metrics on a free loopback port.
 */
public final class ObserveDaemon implements AutoCloseable {
  public final Path socket;
  public final ProcessVmBackend vms = new ProcessVmBackend();
  public final MemoryImageBackend images;
  public Daemon daemon;
  private final Map<String, String> settings;

  public ObserveDaemon(Path dir) throws Exception {
    this(dir, null);
  }

  /** With an image "checked" whose HEALTHCHECK is {@code imageCheck}. */
  public ObserveDaemon(Path dir, HealthConfig imageCheck) throws Exception {
    Map<String, String> s = ConfigFile.read(null);
    s.put("state-dir", dir.resolve("state").toString());
    s.put("socket", dir.resolve("inferno.sock").toString());
    s.put("stop-timeout", "2");
    s.put("metrics-addr", "127.0.0.1:0");
    socket = dir.resolve("inferno.sock");
    images = new MemoryImageBackend().publish("busybox", List.of("sh"));
    if (imageCheck != null) {
      images.publish("checked", List.of("sh"), imageCheck);
    }
    settings = s;
    daemon = start();
  }

  private Daemon start() throws Exception {
    return Daemon.start(
        ConfigFile.build(settings), images, vms, PeerPolicy.ALLOW_ALL, TestNetworks.settings());
  }

  /**
   * The daemon stops and starts again on the same state; its VMs (host processes of the backend, as
   * detached VMMs are) keep running and are taken back.
   */
  public void restart() throws Exception {
    daemon.close();
    daemon = start();
  }

  public UnixHttpClient.Response call(String method, String path, String body) throws Exception {
    return new UnixHttpClient(socket).send(method, path, body);
  }

  @Override
  public void close() throws Exception {
    vms.killAll();
    daemon.close();
    TestNetworks.cleanUp();
  }
}
