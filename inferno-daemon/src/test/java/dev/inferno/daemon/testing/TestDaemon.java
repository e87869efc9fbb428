package dev.inferno.daemon.testing;

import dev.inferno.daemon.Daemon;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.config.ConfigFile;
import dev.inferno.daemon.config.DaemonConfig;
import dev.inferno.daemon.images.ImageModuleBackend;
import dev.inferno.image.ConnectionFactory;
import dev.inferno.image.ImageService;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.model.http.UnixHttpClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A real daemon on a temp socket, with the process VM backend and an in-memory image registry. */
public final class TestDaemon implements AutoCloseable {
  public final Path dir;
  public final Path socket;

  /** The Docker API's socket: every test daemon serves it. */
  public final Path dockerSocket;

  public final ImageBackend images;
  public final ProcessVmBackend vms;
  public final Daemon daemon;

  public TestDaemon(Path dir, PeerPolicy peers) throws Exception {
    this(dir, peers, new ProcessVmBackend(), "1m");
  }

  public TestDaemon(Path dir, PeerPolicy peers, ProcessVmBackend vms, String maxBody)
      throws Exception {
    this(
        dir,
        peers,
        vms,
        maxBody,
        new MemoryImageBackend()
            .publish("busybox", List.of("sh"))
            .publish("alpine:3.20", List.of()));
  }

  public TestDaemon(
      Path dir, PeerPolicy peers, ProcessVmBackend vms, String maxBody, ImageBackend images)
      throws Exception {
    this.dir = dir;
    this.socket = dir.resolve("inferno.sock");
    this.dockerSocket = dir.resolve("docker.sock");
    this.images = images;
    this.vms = vms;
    this.daemon = Daemon.start(config(dir, maxBody), images, vms, peers, TestNetworks.settings());
  }

  /**
   * A test daemon whose images are the real image module's (blob store, disks, SQLite) under {@code
   * dir/state}, as the daemon's own start builds it; VMs are still host processes.
   */
  public static TestDaemon withImageModule(Path dir, String maxBody) throws Exception {
    Path state = Files.createDirectories(dir.resolve("state"));
    ImageService service =
        new ImageService(
            state,
            ConnectionFactory.sqlite(state.resolve("inferno.db")),
            new RegistryClient(CredentialSource.NONE, Set.of()));
    return new TestDaemon(
        dir,
        PeerPolicy.ALLOW_ALL,
        new ProcessVmBackend(),
        maxBody,
        new ImageModuleBackend(service, state.resolve("images/spool")));
  }

  public static DaemonConfig config(Path dir, String maxBody) throws IOException {
    Map<String, String> s = ConfigFile.read(null);
    s.put("state-dir", dir.resolve("state").toString());
    s.put("socket", dir.resolve("inferno.sock").toString());
    s.put("docker-socket", dir.resolve("docker.sock").toString());
    s.put("stop-timeout", "2");
    s.put("max-request-body", maxBody);
    return ConfigFile.build(s);
  }

  /**
   * Pulls an image through the inferno API: the Docker API's create does not pull (the client
   * does), so tests of containers pull beforehand.
   */
  public void pull(String ref) throws IOException {
    String progress =
        new UnixHttpClient(socket)
            .send("POST", "/v1/images/pull", "{\"reference\":\"" + ref + "\"}")
            .text();
    if (!progress.contains("Done")) {
      throw new AssertionError("the pull of " + ref + " did not finish: " + progress);
    }
  }

  /** One request to the Docker socket, with a JSON body or none. */
  public UnixHttpClient.Response docker(String method, String path, String json)
      throws IOException {
    return new UnixHttpClient(dockerSocket).send(method, path, json);
  }

  @Override
  public void close() throws Exception {
    vms.killAll();
    daemon.close();
    TestNetworks.cleanUp();
  }
}
