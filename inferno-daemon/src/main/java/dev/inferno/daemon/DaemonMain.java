package dev.inferno.daemon;

import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.VmBackend;
import dev.inferno.daemon.config.ConfigFile;
import dev.inferno.daemon.config.DaemonConfig;
import dev.inferno.daemon.config.Preflight;
import dev.inferno.daemon.testing.MemoryImageBackend;
import dev.inferno.daemon.testing.ProcessVmBackend;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code inferno server} and {@code inferno init}: the CLI reaches these by reflection, so the
 * daemon's classes load only when the daemon runs.
 */
@Command(
    name = "inferno",
    subcommands = {DaemonMain.Server.class, DaemonMain.Init.class},
    mixinStandardHelpOptions = true)
public final class DaemonMain {
  private DaemonMain() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs "server …" or "init …"; returns the exit code. */
  public static int run(String[] args) {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty(
          "java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    }
    CommandLine cl = new CommandLine(DaemonMain.class);
    cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
      cmd.getErr().println("inferno: " + (ex.getMessage() == null ? ex : ex.getMessage()));
      return 1;
    });
    return cl.execute(args);
  }

  @Command(name = "init", description = "Write a commented default daemon config file.")
  static final class Init implements Callable<Integer> {
    @Option(
        names = {"-p", "--path"},
        description = "where to write it (default: ${DEFAULT-VALUE})")
    Path path = ConfigFile.DEFAULT_PATH;

    @Override
    public Integer call() throws Exception {
      ConfigFile.writeDefault(path);
      System.out.println("wrote " + path);
      return 0;
    }
  }

  @Command(name = "server", description = "Run the daemon (as root) serving the API on its socket.")
  static final class Server implements Callable<Integer> {
    private static final Logger LOG = Logger.getLogger("dev.inferno.daemon");

    @Option(names = "--config", description = "config file (default: ${DEFAULT-VALUE} if present)")
    Path config;

    @Option(names = "--state-dir")
    String stateDir;

    @Option(names = "--socket")
    String socket;

    @Option(names = "--socket-group")
    String socketGroup;

    @Option(names = "--kernel")
    String kernel;

    @Option(names = "--init")
    String init;

    @Option(names = "--vmm", description = "auto, firecracker or qemu")
    String vmm;

    @Option(names = "--backend", description = "kiln, or process (testing only)")
    String backend;

    @Option(names = "--testing-images", split = ",", description = "backend=process: fake registry")
    List<String> testingImages;

    @Override
    public Integer call() throws Exception {
      Path file =
          config != null
              ? config
              : java.nio.file.Files.exists(ConfigFile.DEFAULT_PATH)
                  ? ConfigFile.DEFAULT_PATH
                  : null;
      Map<String, String> s = ConfigFile.read(file);
      put(s, "state-dir", stateDir);
      put(s, "socket", socket);
      put(s, "socket-group", socketGroup);
      put(s, "kernel", kernel);
      put(s, "init", init);
      put(s, "vmm", vmm);
      put(s, "backend", backend);
      if (testingImages != null) {
        s.put("testing-images", String.join(",", testingImages));
      }
      DaemonConfig cfg = ConfigFile.build(s);
      boolean kvm = Preflight.kvm(Path.of("/dev/kvm"));
      List<String> problems = Preflight.check(cfg, kvm);
      if (!problems.isEmpty()) {
        throw new IllegalStateException("cannot start:\n  " + String.join("\n  ", problems));
      }
      ImageBackend images;
      VmBackend vms;
      if (cfg.backend().equals("process")) {
        LOG.warning(
            "backend=process: VMs are host processes and images are fakes; for testing only");
        MemoryImageBackend m = new MemoryImageBackend();
        for (String ref : cfg.testingImages()) {
          m.publish(ref, List.of("sh"));
        }
        images = m;
        vms = new ProcessVmBackend();
      } else {
        throw new IllegalStateException(
            "the kiln backend is not wired into this build yet (the image and kiln modules are"
                + " being merged); use --backend process for testing");
      }
      Daemon d =
          Daemon.start(
              cfg, images, vms, PeerPolicy.standard(cfg.socketGroup(), Path.of("/etc/group")));
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(() -> {
                try {
                  d.close();
                } catch (Exception e) {
                  // exiting anyway
                }
              }));
      d.join();
      return 0;
    }

    private static void put(Map<String, String> s, String key, String v) {
      if (v != null) {
        s.put(key, v);
      }
    }
  }
}
