package dev.inferno.daemon;

import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.backend.ImageBackend;
import dev.inferno.daemon.backend.VmBackend;
import dev.inferno.daemon.config.ConfigFile;
import dev.inferno.daemon.config.DaemonConfig;
import dev.inferno.daemon.config.Preflight;
import dev.inferno.daemon.images.ImageModuleBackend;
import dev.inferno.daemon.kiln.KilnVmBackend;
import dev.inferno.image.ConnectionFactory;
import dev.inferno.image.ImageService;
import dev.inferno.image.registry.DockerConfigCredentials;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.sys.Kvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
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
    cl.setParameterExceptionHandler((ex, a) -> {
      // as the CLI's other verbs answer a usage error: one line, a hint, Docker's 125
      CommandLine c = ex.getCommandLine();
      c.getErr().println("inferno: " + ex.getMessage());
      c.getErr().println("See '" + c.getCommandSpec().qualifiedName() + " --help'.");
      return 125;
    });
    return cl.execute(args);
  }

  @Command(name = "init", description = "Write a commented default daemon config file.")
  static final class Init implements Callable<Integer> {
    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;

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
    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;

    @Option(
        names = "--config",
        description = "config file (default: " + ConfigFile.DEFAULT_LOCATION + " if present)")
    Path config;

    @Option(names = "--state-dir", description = "overrides the config's state-dir")
    String stateDir;

    @Option(names = "--socket", description = "overrides the config's socket")
    String socket;

    @Option(names = "--socket-group", description = "overrides the config's socket-group")
    String socketGroup;

    @Option(names = "--kernel", description = "overrides the config's kernel")
    String kernel;

    @Option(names = "--init", description = "overrides the config's init")
    String init;

    @Option(names = "--vmm", description = "auto, firecracker or qemu")
    String vmm;

    @Option(names = "--qemu-accel", description = "auto, kvm or tcg")
    String qemuAccel;

    @Option(
        names = "--metrics-addr",
        paramLabel = "HOST:PORT",
        description = "serve Prometheus metrics on http://HOST:PORT/metrics (config metrics-addr)")
    String metricsAddr;

    @Option(
        names = "--docker-socket",
        paramLabel = "PATH",
        description = "serve the Docker Engine API on this unix socket (config docker-socket)")
    String dockerSocket;

    @Override
    public Integer call() throws Exception {
      Path file =
          config != null
              ? config
              : Files.exists(ConfigFile.DEFAULT_PATH) ? ConfigFile.DEFAULT_PATH : null;
      Map<String, String> s = ConfigFile.read(file);
      put(s, "state-dir", absolute(stateDir));
      put(s, "socket", absolute(socket));
      put(s, "socket-group", socketGroup);
      put(s, "kernel", absolute(kernel));
      put(s, "init", absolute(init));
      put(s, "vmm", vmm);
      put(s, "qemu-accel", qemuAccel);
      put(s, "metrics-addr", metricsAddr);
      put(s, "docker-socket", absolute(dockerSocket));
      DaemonConfig cfg = ConfigFile.build(s);
      // sys decides: /dev/kvm opening is not enough on a nested host without vmx/svm
      boolean kvm = Kvm.probe().usable();
      List<String> problems = Preflight.check(cfg, kvm);
      if (!problems.isEmpty()) {
        throw new IllegalStateException("cannot start:\n  " + String.join("\n  ", problems));
      }
      ImageBackend images = images(cfg);
      VmBackend vms = KilnVmBackend.create(cfg, kvm);
      Daemon d =
          Daemon.start(
              cfg, images, vms, PeerPolicy.standard(cfg.socketGroup(), Path.of("/etc/group")));
      d.serveUntilExit();
      return 0;
    }

    private static ImageBackend images(DaemonConfig cfg) throws IOException {
      Files.createDirectories(cfg.stateDir());
      // inferno login's own store (docker config.json format, 0600) wins over the user's docker one
      var logins = new DockerConfigCredentials(cfg.stateDir().resolve("auth.json"));
      var registry =
          new RegistryClient(
              logins.orElse(DockerConfigCredentials.forCurrentUser()),
              Set.copyOf(cfg.insecureRegistries()));
      var service =
          new ImageService(
              cfg.stateDir(),
              ConnectionFactory.sqlite(cfg.database()),
              registry,
              new ImageService.Options(
                  ImageService.Options.DEFAULT.limits(),
                  ImageService.Options.DEFAULT.parallelLayers(),
                  cfg.imageScratch()));
      return new ImageModuleBackend(
          service, cfg.stateDir().resolve("images/spool"), registry, logins);
    }

    /**
     * A path given on the command line means what it means in the caller's directory; the VMMs run
     * elsewhere (QEMU in the VM's state dir, Firecracker in its jail), so it is made absolute here.
     */
    private static String absolute(String path) {
      return path == null ? null : Path.of(path).toAbsolutePath().normalize().toString();
    }

    private static void put(Map<String, String> s, String key, String v) {
      if (v != null) {
        s.put(key, v);
      }
    }
  }
}
