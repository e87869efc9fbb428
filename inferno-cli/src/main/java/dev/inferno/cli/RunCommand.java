package dev.inferno.cli;

import dev.inferno.model.ApiError;
import dev.inferno.model.Created;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.Mount;
import dev.inferno.model.MountGrammar;
import dev.inferno.model.RunRequest;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import dev.inferno.model.stream.Frame;
import dev.inferno.model.units.Sizes;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * {@code inferno run}: pull if needed (with progress), create and start; attached, stream the VM's
 * stdout/stderr to ours and exit with its exit code (Ctrl-C stops the VM, a second Ctrl-C kills
 * it); detached, print the id. 125 when the daemon or the setup fails.
 */
final class RunCommand implements Verb {
  private final OptionSpec detachOpt =
      Verb.flag("run in the background and print the VM id", "-d", "--detach");
  private final OptionSpec interactiveOpt =
      Verb.flag("keep stdin open and send our input to the VM", "-i", "--interactive");
  private final OptionSpec ttyOpt = Verb.flag("give the VM's process a terminal", "-t", "--tty");
  private final OptionSpec detachKeysOpt = SessionCommands.detachKeysOption();
  private final OptionSpec rmOpt = Verb.flag("remove the VM when it exits", "--rm");
  private final OptionSpec nameOpt =
      Verb.option(String.class, "name", "a name for the VM", "--name");
  private final OptionSpec envOpt =
      Verb.repeated(
          String.class,
          "env",
          "set an environment variable (KEY=VALUE, or KEY to pass ours)",
          "-e",
          "--env");
  private final OptionSpec envFileOpt =
      Verb.repeated(Path.class, "envFiles", "read KEY=VALUE lines from a file", "--env-file");
  private final OptionSpec entrypointOpt =
      Verb.option(String.class, "entrypoint", "override the image's entrypoint", "--entrypoint");
  private final OptionSpec workdirOpt =
      Verb.option(String.class, "workdir", "working directory in the VM", "-w", "--workdir");
  private final OptionSpec userOpt =
      Verb.option(String.class, "user", "user[:group] in the VM", "-u", "--user");
  private final OptionSpec cpusOpt = Verb.option(Double.class, "cpus", "vCPUs", "--cpus");
  private final OptionSpec memoryOpt =
      Verb.option(String.class, "memory", "memory, e.g. 512m or 1g", "-m", "--memory");
  private final OptionSpec stopSignalOpt =
      Verb.option(
          String.class, "stopSignal", "signal that stops the VM's process", "--stop-signal");
  private final OptionSpec stopTimeoutOpt =
      Verb.option(
          Integer.class,
          "stopTimeout",
          "seconds to wait after the stop signal before killing",
          "--stop-timeout");
  private final OptionSpec vmmOpt =
      Verb.option(String.class, "vmm", "auto, firecracker or qemu", "--vmm");
  private final OptionSpec platformOpt =
      Verb.option(String.class, "platform", "os/arch[/variant] to pull", "--platform");
  private final OptionSpec pullOpt =
      Verb.option(String.class, "pull", "missing (default), always or never", "--pull");
  private final OptionSpec publishOpt =
      Verb.repeated(
          String.class,
          "publish",
          "publish a port: [IP:][HOSTPORT:]PORT[/tcp|udp] (no HOSTPORT: a random one)",
          "-p",
          "--publish");
  private final OptionSpec publishAllOpt =
      Verb.flag(
          "publish every port the image EXPOSEs on a random host port", "-P", "--publish-all");
  private final OptionSpec networkOpt =
      Verb.option(
          String.class, "network", "default (own address, NAT out) or none (only lo)", "--network");
  // Docker's -h is inferno's --help on every verb, so only the long name
  private final OptionSpec hostnameOpt =
      Verb.option(String.class, "hostname", "the VM's hostname", "--hostname");
  private final OptionSpec dnsOpt =
      Verb.repeated(String.class, "dns", "a nameserver (IPv4) for the VM", "--dns");
  private final OptionSpec dnsSearchOpt =
      Verb.repeated(String.class, "domain", "a DNS search domain for the VM", "--dns-search");
  private final OptionSpec restartOpt =
      Verb.option(
          String.class,
          "policy",
          "restart policy: no (default), on-failure[:N], always, unless-stopped",
          "--restart");
  private final OptionSpec addHostOpt =
      Verb.repeated(String.class, "host:ip", "add a line to the VM's /etc/hosts", "--add-host");
  // storage (issue 12): MountGrammar owns the grammars
  private final OptionSpec volumeOpt =
      Verb.repeated(
          String.class,
          "volume",
          "mount a volume: NAME:/path[:ro] (created on first use) or /path (a new anonymous one);"
              + " a host directory cannot be shared with a VM",
          "-v",
          "--volume");
  private final OptionSpec mountOpt =
      Verb.repeated(
          String.class,
          "mount",
          "type=volume|tmpfs,source=NAME,target=/path[,readonly][,tmpfs-size=64m,tmpfs-mode=1777]",
          "--mount");
  private final OptionSpec tmpfsOpt =
      Verb.repeated(String.class, "tmpfs", "mount a tmpfs: /path[:size=64m,mode=1777]", "--tmpfs");
  private final OptionSpec readOnlyOpt =
      Verb.flag("read-only root filesystem (/tmp and /run are tmpfs)", "--read-only");
  private final HealthOptions health = new HealthOptions();
  private final PositionalParamSpec imageParam = Verb.positional("0", "1", "IMAGE", null);
  private final PositionalParamSpec cmdParam =
      Verb.positional("1..*", "0..*", "CMD", "command and arguments");

  private String image;

  /** {@code inferno create}: the same options, the VM recorded but not started. */
  private final boolean createOnly;

  RunCommand() {
    this(false);
  }

  RunCommand(boolean createOnly) {
    this.createOnly = createOnly;
  }

  @Override
  public CommandSpec spec() {
    CommandSpec spec =
        createOnly
            ? Verb.command(this, "create", "Create a VM from an image without starting it.")
            : Verb.command(this, "run", "Create and start a VM from an image.")
                .addOption(detachOpt);
    spec.addOption(interactiveOpt).addOption(ttyOpt);
    if (!createOnly) {
      spec.addOption(detachKeysOpt);
    }
    spec.addOption(rmOpt)
        .addOption(nameOpt)
        .addOption(envOpt)
        .addOption(envFileOpt)
        .addOption(entrypointOpt)
        .addOption(workdirOpt)
        .addOption(userOpt)
        .addOption(cpusOpt)
        .addOption(memoryOpt)
        .addOption(stopSignalOpt)
        .addOption(stopTimeoutOpt)
        .addOption(vmmOpt)
        .addOption(platformOpt)
        .addOption(pullOpt)
        .addOption(publishOpt)
        .addOption(publishAllOpt)
        .addOption(networkOpt)
        .addOption(hostnameOpt)
        .addOption(dnsOpt)
        .addOption(dnsSearchOpt)
        .addOption(addHostOpt)
        .addOption(restartOpt)
        .addOption(volumeOpt)
        .addOption(mountOpt)
        .addOption(tmpfsOpt)
        .addOption(readOnlyOpt)
        .addPositional(imageParam)
        .addPositional(cmdParam);
    health.addTo(spec); // observe: --health-*, --no-healthcheck
    spec.usageMessage().sortOptions(false);
    // `run IMAGE CMD…`: everything after the image belongs to the VM's command, like Docker
    spec.parser().stopAtPositional(true);
    return spec;
  }

  @Override
  public int run() throws Exception {
    image = imageParam.getValue();
    boolean detach = createOnly || Boolean.TRUE.equals(detachOpt.getValue());
    String pull = pullOpt.getValue() == null ? "missing" : pullOpt.getValue();
    String platform = platformOpt.getValue();
    if (!List.of("missing", "always", "never").contains(pull)) {
      throw new CliException("invalid --pull " + pull + ": missing, always or never");
    }
    boolean interactive = interactiveOpt.getValue();
    boolean tty = ttyOpt.getValue();
    RunRequest req = request();
    if (req.restart() != null
        && !req.restart().equals("no")
        && Boolean.TRUE.equals(req.autoRemove())) {
      throw CliException.badInput(
          "conflicting options: --restart " + req.restart() + " and --rm: drop one of them");
    }
    // before anything is pulled or created: -it needs a terminal
    Terminal term = detach ? null : SessionCommands.terminal(tty, interactive);
    DaemonClient client = Main.client();
    if (pull.equals("always") || (pull.equals("missing") && !present(client))) {
      if (pull.equals("missing")) {
        System.err.println("Unable to find image '" + image + "' locally");
      }
      int code = ImageCommands.Pull.pull(client, image, platform, System.err);
      if (code != 0) {
        return 125;
      }
    }
    req = req.withPull("never"); // pulled above if it had to be
    if (createOnly) {
      Created c = create(client, req, tty, interactive, null, false);
      System.out.println(c.id());
      return 0;
    }
    if (detach) {
      Created c = create(client, req, tty, interactive, null);
      System.out.println(c.id());
      return 0;
    }
    if (tty || interactive) {
      // -t without -i: no raw mode, but the guest's terminal starts at our size all the same
      Terminal sized = term != null ? term : tty ? Terminal.ofStdin() : null;
      Created c = create(client, req, tty, interactive, sized == null ? null : sized.size());
      if (term == null) {
        AtomicInteger interrupts = new AtomicInteger();
        Interrupts.install(() -> interrupt(client, c.id(), interrupts.incrementAndGet()));
      }
      // with -i our end of input ends the VM's (stdinOnce); with -t and -i keys are bytes
      return SessionCommands.attach(
          client,
          c.id(),
          interactive,
          interactive,
          true,
          null,
          detachKeysOpt.getValue(),
          term,
          Boolean.TRUE.equals(req.autoRemove()));
    }
    return attached(client, req);
  }

  /**
   * Creates and starts the VM; with -t or -i the request also asks for a terminal, an open stdin
   * and the terminal's size.
   */
  private static Created create(
      DaemonClient client, RunRequest req, boolean tty, boolean interactive, int[] size)
      throws IOException {
    return create(client, req, tty, interactive, size, true);
  }

  /** As above; without start the VM is only recorded ({@code inferno create}). */
  private static Created create(
      DaemonClient client,
      RunRequest req,
      boolean tty,
      boolean interactive,
      int[] size,
      boolean start)
      throws IOException {
    RunRequest r =
        !tty && !interactive
            ? req
            : req.toBuilder()
                .tty(tty ? Boolean.TRUE : null)
                .interactive(interactive ? Boolean.TRUE : null)
                .consoleSize(size == null ? null : List.of(size[0], size[1]))
                .build();
    Created c = client.call("POST", "/v1/vms" + (start ? "" : "?start=false"), r, Created.class);
    warn(c);
    return c;
  }

  private boolean present(DaemonClient client) throws IOException {
    UnixHttpClient.Response r =
        client.send("GET", "/v1/images/inspect?ref=" + DaemonClient.enc(image), null);
    if (r.status() == 200) {
      r.close();
      return true;
    }
    if (r.status() == 404) {
      r.close();
      return false;
    }
    throw DaemonClient.error(r);
  }

  /** The request the options describe; null leaves a field to the image or the daemon. */
  RunRequest request() throws IOException {
    List<String> envs = new ArrayList<>();
    for (Path f : Verb.<Path>list(envFileOpt)) {
      for (String line : Files.readAllLines(f)) {
        String l = line.strip();
        if (!l.isEmpty() && !l.startsWith("#")) {
          addEnv(envs, l);
        }
      }
    }
    for (String e : Verb.<String>list(envOpt)) {
      addEnv(envs, e);
    }
    String memory = memoryOpt.getValue();
    String entrypoint = entrypointOpt.getValue();
    List<String> cmd = Verb.list(cmdParam);
    Long memoryBytes = null;
    if (memory != null) {
      try {
        memoryBytes = Sizes.parse(memory);
      } catch (IllegalArgumentException e) {
        throw new CliException(e.getMessage());
      }
    }
    return RunRequest.builder(image)
        .name(nameOpt.getValue())
        .env(envs.isEmpty() ? null : envs)
        .entrypoint(
            entrypoint == null ? null : entrypoint.isEmpty() ? List.of() : List.of(entrypoint))
        .cmd(cmd.isEmpty() ? null : cmd)
        .workdir(workdirOpt.getValue())
        .user(userOpt.getValue())
        .cpus(cpusOpt.getValue())
        .memoryBytes(memoryBytes)
        .stopSignal(stopSignalOpt.getValue())
        .stopTimeoutSeconds(stopTimeoutOpt.getValue())
        .vmm(vmmOpt.getValue())
        .platform(platformOpt.getValue())
        .autoRemove(Boolean.TRUE.equals(rmOpt.getValue()) ? Boolean.TRUE : null)
        .ports(orNull(Verb.list(publishOpt)))
        .publishAll(Boolean.TRUE.equals(publishAllOpt.getValue()) ? Boolean.TRUE : null)
        .network(networkOpt.getValue())
        .hostname(hostnameOpt.getValue())
        .dns(orNull(Verb.list(dnsOpt)))
        .dnsSearch(orNull(Verb.list(dnsSearchOpt)))
        .extraHosts(orNull(Verb.list(addHostOpt)))
        .restart(restartOpt.getValue())
        .mounts(mounts())
        .readOnly(Boolean.TRUE.equals(readOnlyOpt.getValue()) ? Boolean.TRUE : null)
        .healthcheck(health.config())
        .build();
  }

  /** -v, --mount and --tmpfs in that order, checked before anything is pulled or created. */
  private List<Mount> mounts() {
    List<Mount> mounts = new ArrayList<>();
    try {
      for (String v : Verb.<String>list(volumeOpt)) {
        mounts.add(MountGrammar.volume(v));
      }
      for (String m : Verb.<String>list(mountOpt)) {
        mounts.add(MountGrammar.mount(m));
      }
      for (String t : Verb.<String>list(tmpfsOpt)) {
        mounts.add(MountGrammar.tmpfs(t));
      }
      MountGrammar.check(mounts);
    } catch (IllegalArgumentException e) {
      throw CliException.badInput(e.getMessage());
    }
    return mounts.isEmpty() ? null : mounts;
  }

  /** An option not given is null in the request: the daemon's default applies. */
  private static List<String> orNull(List<String> l) {
    return l.isEmpty() ? null : l;
  }

  private static void addEnv(List<String> envs, String e) {
    if (e.indexOf('=') > 0) {
      envs.add(e);
    } else if (!e.isEmpty() && e.indexOf('=') < 0) {
      String v = System.getenv(e);
      if (v != null) {
        envs.add(e + "=" + v); // Docker's -e KEY: pass ours, skip when unset
      }
    } else {
      throw new CliException("invalid environment variable \"" + e + "\": expected KEY=VALUE");
    }
  }

  private static void warn(Created created) {
    if (created.warnings() != null) {
      for (String s : created.warnings()) {
        System.err.println("WARNING: " + s);
      }
    }
  }

  /** One request: the info frame names the VM, output follows, the exit frame ends it. */
  private int attached(DaemonClient client, RunRequest req) throws IOException {
    UnixHttpClient.Response r = client.send("POST", "/v1/vms?attach=true", req);
    if (r.status() != 200) {
      throw DaemonClient.error(r);
    }
    PrintStream out = System.out;
    PrintStream err = System.err;
    String[] id = new String[1];
    AtomicInteger interrupts = new AtomicInteger();
    try (r) {
      InputStream in = r.body();
      for (Frame f = Frame.readFrom(in); f != null; f = Frame.readFrom(in)) {
        switch (f.kind()) {
          case INFO -> {
            Created created = Json.read(f.text(), Created.class);
            id[0] = created.id();
            warn(created);
            Interrupts.install(() -> interrupt(client, id[0], interrupts.incrementAndGet()));
          }
          case STDOUT -> {
            out.write(f.payload());
            out.flush();
          }
          case STDERR -> {
            err.write(f.payload());
            err.flush();
          }
          case EXIT -> {
            ExitRecord exit = Json.read(f.text(), ExitRecord.class);
            if (exit.code() == null) {
              throw new CliException(
                  "the VM ended without an exit code: "
                      + (exit.reason() == null ? "unknown reason" : exit.reason()));
            }
            return exit.code();
          }
          case ERROR ->
              throw new CliException(String.valueOf(Json.read(f.text(), ApiError.class).message()));
        }
      }
    }
    throw new CliException("the daemon ended the stream before the VM exited");
  }

  /** First Ctrl-C: stop (the VM's stop signal, then its timeout); second: kill. */
  private static void interrupt(DaemonClient client, String id, int n) {
    String path = n == 1 ? "/v1/vms/" + id + "/stop" : "/v1/vms/" + id + "/kill";
    Thread.ofPlatform()
        .daemon()
        .start(() -> {
          try {
            client.call("POST", path, null);
          } catch (IOException | RuntimeException e) {
            System.err.println("inferno: " + e.getMessage());
          }
        });
  }
}
