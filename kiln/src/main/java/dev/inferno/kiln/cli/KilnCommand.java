package dev.inferno.kiln.cli;

import dev.inferno.kiln.firecracker.Firecracker;
import dev.inferno.kiln.logs.LogSink;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.qemu.Qemu;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.GuestSession;
import dev.inferno.kiln.vm.LinkedGuest;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmKind;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiln --init kiln.json} and {@code kiln --config kiln.json}. */
@Command(
    name = "kiln",
    mixinStandardHelpOptions = true,
    version = "kiln 0.1.0",
    description = {
      "Runs one microVM in the foreground (Firecracker under the jailer, or QEMU microvm),",
      "prints its output and exits with the guest's exit code. Ctrl-C stops the VM."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0..255:the guest workload's exit code (128+N when signal N killed it)",
      "125:kiln itself failed (bad config, VMM would not start)",
      "2:bad usage"
    })
public final class KilnCommand implements Callable<Integer> {

  @Option(
      names = "--init",
      paramLabel = "FILE",
      description = "write a documented default config to FILE")
  Path initFile;

  @Option(names = "--config", paramLabel = "FILE", description = "run the VM described by FILE")
  Path configFile;

  @Option(
      names = "--vmm",
      paramLabel = "auto|firecracker|qemu",
      description = "override the config's vmm")
  String vmm;

  @Option(
      names = "--console",
      description = "also copy the guest's serial console (kernel and init messages) to stderr")
  boolean console;

  private final PrintStream out;
  private final PrintStream err;
  private final GuestSession.Factory guests;

  /** How long the last log lines get to reach the log sink after the VM is gone. */
  private static final Duration SINK_GRACE = Duration.ofSeconds(3);

  public KilnCommand() {
    this(System.out, System.err, null);
  }

  /**
   * @param guests the guest sessions; null for the protocol's ({@link LinkedGuest}), forwarding to
   *     the config's {@code log_sink} when it has one
   */
  public KilnCommand(PrintStream out, PrintStream err, GuestSession.Factory guests) {
    this.out = out;
    this.err = err;
    this.guests = guests;
  }

  @Override
  public Integer call() throws Exception {
    if (initFile != null) {
      KilnConfig.writeDefault(initFile);
      out.println("wrote " + initFile + ": edit it, then run: kiln --config " + initFile);
      return 0;
    }
    if (configFile == null) {
      err.println("kiln: give --init FILE or --config FILE (see kiln --help)");
      return 2;
    }
    KilnConfig config = KilnConfig.load(configFile, vmm);
    LogSink sink =
        config.logSink() != null && guests == null
            ? new LogSink(config.logSink().socket(), config.logSink().capacity())
            : null;
    try {
      return run(
          config,
          guests != null
              ? guests
              : LinkedGuest.factory(false, LogStore.Options.defaults(), sink, VmSpec::id));
    } finally {
      if (sink != null) {
        sink.close(SINK_GRACE);
        if (sink.dropped() > 0) {
          err.println("kiln: " + sink.dropped() + " log lines could not be forwarded to the sink");
        }
      }
    }
  }

  private int run(KilnConfig config, GuestSession.Factory guests) throws Exception {
    Supervisor supervisor =
        new Supervisor(
            Map.of(
                VmmKind.QEMU, new Qemu(config.qemu()),
                VmmKind.FIRECRACKER, new Firecracker(config.firecracker())),
            guests);
    RunningVm vm = supervisor.start(config.spec());
    err.println(
        "kiln: VM "
            + vm.spec().id()
            + " running under "
            + vm.vmm().label()
            + " (pid "
            + vm.process().pid()
            + "), state in "
            + vm.spec().stateDir());
    Thread stopper =
        new Thread(() -> {
          if (!vm.exit().isDone()) {
            err.println("kiln: stopping " + vm.spec().id() + " …");
            try {
              vm.stop();
            } catch (IOException e) {
              err.println("kiln: stop failed: " + e.getMessage());
            }
          }
        });
    // Ctrl-C: stop the VM and still exit with its code; SIGTERM (JVM shutdown): stop it on the way
    // out
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> Thread.ofVirtual().start(stopper));
    Runtime.getRuntime().addShutdownHook(stopper);
    ConsoleFollower consoleFollower =
        console ? new ConsoleFollower(vm.spec().layout().console(), err) : null;
    Thread consoleThread = console ? Thread.ofVirtual().start(consoleFollower) : null;
    LogFollower logFollower =
        vm.guest() instanceof LinkedGuest linked ? new LogFollower(linked.logs(), out, err) : null;
    Thread logThread = logFollower != null ? Thread.ofVirtual().start(logFollower) : null;
    ExitRecord exit;
    try {
      exit = vm.exit().join();
    } finally {
      if (consoleThread != null) {
        consoleFollower.finish();
        consoleThread.join();
      }
      if (logThread != null) {
        logFollower.finish();
        logThread.join();
        ((LinkedGuest) vm.guest()).logs().close();
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(stopper);
    } catch (IllegalStateException alreadyShuttingDown) {
      // Ctrl-C: the hook is running and stopped the VM
    }
    if (exit.reason() != null) {
      err.println("kiln: " + exit.reason());
    }
    if (exit.error() != null) {
      err.println("kiln: " + exit.error());
    }
    // no report from the guest (the VMM died before it, or vanished): kiln's failure, not a code
    return exit.hasCode() ? exit.code() : 125;
  }

  public static CommandLine commandLine(KilnCommand command) {
    CommandLine cl = new CommandLine(command);
    cl.setOut(new java.io.PrintWriter(command.out, true));
    cl.setErr(new java.io.PrintWriter(command.err, true));
    cl.setExecutionExceptionHandler((ex, line, parsed) -> {
      line.getErr().println("kiln: " + ex.getMessage());
      return 125;
    });
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine(new KilnCommand()).execute(args));
  }
}
