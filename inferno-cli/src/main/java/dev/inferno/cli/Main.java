package dev.inferno.cli;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The {@code inferno} command. Subcommands touch JDK types (and picocli) only; {@code server} and
 * {@code init} reach the daemon's classes by reflection so no other command loads them. The grammar
 * is picocli's model built in code ({@link Verb}), not from annotations (startup matters).
 */
public final class Main {
  public static final String VERSION = "0.1.0";
  static final Path DEFAULT_SOCKET = Path.of("/run/inferno/inferno.sock");

  /** The global option every verb inherits. */
  static final Grammar.Option SOCKET =
      Grammar.option(
          Path.class,
          "socket",
          "the daemon's socket (default: $INFERNO_SOCKET or /run/inferno/inferno.sock)",
          "--socket");

  /** The --socket of the command line running now (null: $INFERNO_SOCKET or the default). */
  private static Path socket;

  private Main() {}

  public static void main(String[] args) {
    PrintWriter out =
        new PrintWriter(
            new java.io.OutputStreamWriter(System.out, java.nio.charset.Charset.defaultCharset()),
            true);
    PrintWriter err =
        new PrintWriter(
            new java.io.OutputStreamWriter(System.err, java.nio.charset.Charset.defaultCharset()),
            true);
    int code = run(args, out, err);
    if (args.length > 0 && isDaemonVerb(args[0])) {
      System.exit(code); // the daemon's shutdown hooks must run
    }
    // The CLI registers no shutdown hooks, so after flushing, halting is the same exit without
    // System.exit's logging of it, which looks the JDK's logger up as a service in every jar on
    // the classpath (2-20 ms, bench/cli/README.md).
    out.flush();
    err.flush();
    System.out.flush();
    System.err.flush();
    Runtime.getRuntime().halt(code);
  }

  /** Runs one command line; returns the exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    if (args.length > 0 && isDaemonVerb(args[0])) {
      return daemon(args, err);
    }
    if (args.length == 2 && args[0].equals("help") && isDaemonVerb(args[1])) {
      return daemon(new String[] {args[1], "--help"}, err); // their options live in the daemon
    }
    socket = null;
    Integer lean = lean(args, err);
    if (lean != null) {
      return lean;
    }
    CommandLine cl = commandLine(subcommand(args));
    cl.setOut(out);
    cl.setErr(err);
    return cl.execute(args);
  }

  /**
   * Runs a hot verb's plain command line without picocli (see {@link Grammar}); null when the
   * arguments are not that, for picocli to parse, run or report.
   */
  private static Integer lean(String[] args, PrintWriter err) {
    Path global = null;
    int i = 0;
    for (; i < args.length && args[i].startsWith("--socket"); i++) {
      String value = args[i].startsWith("--socket=") ? args[i].substring(9) : null;
      if (value == null && args[i].equals("--socket") && i + 1 < args.length) {
        value = args[++i];
      }
      if (global != null || value == null || value.isEmpty() || value.startsWith("-")) {
        return null;
      }
      try {
        global = Path.of(value);
      } catch (java.nio.file.InvalidPathException e) {
        return null;
      }
    }
    LeanVerb verb = i < args.length ? leanCommand(args[i]) : null;
    if (verb == null) {
      return null;
    }
    Grammar.Args parsed = verb.grammar().parse(args, i + 1, List.of(SOCKET));
    if (parsed == null) {
      return null;
    }
    Path local = parsed.value(SOCKET);
    socket = local != null ? local : global;
    try {
      return verb.run(parsed);
    } catch (Exception e) {
      return failed(e, verb, err);
    }
  }

  /**
   * A verb failed: one line saying why; 125 for run and for bad input (Docker's code for its own
   * failures), else 1.
   */
  private static int failed(Exception ex, Object verb, PrintWriter err) {
    String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
    if (!(ex instanceof CliException) && ex instanceof java.io.IOException) {
      msg = "talking to the daemon failed: " + msg;
    }
    err.println("inferno: " + msg);
    err.flush();
    boolean badInput = ex instanceof CliException c && c.badInput();
    return verb instanceof RunCommand || badInput ? 125 : 1;
  }

  private static boolean isDaemonVerb(String verb) {
    return verb.equals("server") || verb.equals("init");
  }

  /** Every subcommand, in help order. */
  static final String[] COMMANDS = {
    "run",
    "create",
    "start",
    "restart",
    "pause",
    "unpause",
    "rename",
    "update",
    "wait",
    "events",
    "exec",
    "attach",
    "cp",
    "top",
    "stats",
    "stop",
    "kill",
    "rm",
    "ps",
    "port",
    "inspect",
    "logs",
    "pull",
    "images",
    "rmi",
    "tag",
    "history",
    "load",
    "save",
    "volume",
    "login",
    "logout",
    "version",
    "info",
    "completion",
    "server",
    "init"
  };

  /**
   * A new instance of a subcommand, or null. A switch rather than annotations or lambdas: picocli
   * builds a model only for the commands registered, and one command's model is all a normal
   * invocation needs (startup matters).
   */
  static Verb command(String name) {
    LeanVerb lean = leanCommand(name);
    if (lean != null) {
      return lean;
    }
    return switch (name) {
      case "run" -> new RunCommand();
      case "create" -> new RunCommand(true);
      case "start" -> new LifecycleCommands.Start();
      case "restart" -> new LifecycleCommands.Restart();
      case "pause" -> new LifecycleCommands.Pause(true);
      case "unpause" -> new LifecycleCommands.Pause(false);
      case "rename" -> new LifecycleCommands.Rename();
      case "update" -> new LifecycleCommands.Update();
      case "wait" -> new LifecycleCommands.Wait();
      case "events" -> new LifecycleCommands.Events();
      case "exec" -> new SessionCommands.Exec();
      case "attach" -> new SessionCommands.Attach();
      case "cp" -> new CpCommand();
      case "top" -> new SessionCommands.Top();
      case "stats" -> new StatsCommand();
      case "stop" -> new VmCommands.Stop();
      case "kill" -> new VmCommands.Kill();
      case "rm" -> new VmCommands.Rm();
      case "port" -> new PortCommand();
      case "pull" -> new ImageCommands.Pull();
      case "rmi" -> new ImageCommands.Rmi();
      case "tag" -> new ImageCommands.Tag();
      case "history" -> new ImageCommands.History();
      case "load" -> new ImageCommands.Load();
      case "save" -> new ImageCommands.Save();
      case "volume" -> new VolumeCommands();
      case "login" -> new AuthCommands.Login();
      case "logout" -> new AuthCommands.Logout();
      case "version" -> new SystemCommands.Version();
      case "info" -> new SystemCommands.InfoCommand();
      case "completion" -> new SystemCommands.Completion();
      case "server" -> new DaemonVerb("server", "Run the daemon (see `inferno server --help`).");
      case "init" -> new DaemonVerb("init", "Write a commented default daemon config (-p PATH).");
      default -> null;
    };
  }

  /** The hot verbs, which run without picocli when their arguments are plain; else null. */
  static LeanVerb leanCommand(String name) {
    return switch (name) {
      case "ps" -> new PsCommand();
      case "images" -> new ImageCommands.Images();
      case "inspect" -> new VmCommands.Inspect();
      case "logs" -> new LogsCommand();
      default -> null;
    };
  }

  /** The subcommand the arguments name (after global options), when only it needs registering. */
  static String subcommand(String[] args) {
    int i = 0;
    while (i < args.length && args[i].startsWith("--socket")) {
      i += args[i].contains("=") ? 1 : 2;
    }
    if (i < args.length && command(args[i]) != null && !args[i].equals("completion")) {
      return args[i];
    }
    return null; // help, completion, or a mistake: register everything
  }

  static CommandLine commandLine() {
    return commandLine(null);
  }

  static CommandLine commandLine(String only) {
    CommandSpec root = CommandSpec.create().name("inferno").version("inferno version " + VERSION);
    root.usageMessage().description("Docker-shaped containers that are microVMs.");
    root.addOption(SOCKET.spec().toBuilder().scopeType(CommandLine.ScopeType.INHERIT).build());
    root.addOption(help());
    root.addOption(
        OptionSpec.builder("-V", "--version")
            .versionHelp(true)
            .description("Print version information and exit.")
            .build());
    CommandLine cl = new CommandLine(root);
    for (String name : only == null ? COMMANDS : new String[] {only}) {
      // every verb answers -h/--help
      cl.addSubcommand(name, command(name).spec().addOption(help()));
    }
    if (only == null) {
      cl.addSubcommand("help", new CommandLine.HelpCommand()); // `inferno help VERB`
    }
    cl.setExecutionStrategy(Main::execute);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parse) -> failed(ex, cmd.getCommandSpec().userObject(), cmd.getErr()));
    cl.setParameterExceptionHandler((ex, args) -> {
      CommandLine c = ex.getCommandLine();
      c.getErr().println("inferno: " + ex.getMessage());
      c.getErr().println("See '" + c.getCommandSpec().qualifiedName() + " --help'.");
      c.getErr().flush();
      return 125;
    });
    return cl;
  }

  static OptionSpec help() {
    return OptionSpec.builder("-h", "--help")
        .usageHelp(true)
        .description("Show this help message and exit.")
        .build();
  }

  /** After parsing: help if asked for, else the verb; no verb prints the usage, as Docker does. */
  private static int execute(ParseResult parsed) {
    Integer help = CommandLine.executeHelpRequest(parsed);
    if (help != null) {
      return help;
    }
    ParseResult last = parsed;
    socket = parsed.matchedOptionValue("--socket", null);
    while (last.hasSubcommand()) {
      last = last.subcommand();
      socket = last.matchedOptionValue("--socket", socket);
    }
    CommandLine cmd = last.commandSpec().commandLine();
    if (!(last.commandSpec().userObject() instanceof Verb verb)) {
      cmd.usage(cmd.getOut());
      return 0;
    }
    try {
      return verb.run();
    } catch (Exception e) {
      throw new CommandLine.ExecutionException(cmd, String.valueOf(e.getMessage()), e);
    }
  }

  static DaemonClient client() {
    Path p = socket;
    if (p == null) {
      String env = System.getenv("INFERNO_SOCKET");
      p = env != null && !env.isEmpty() ? Path.of(env) : DEFAULT_SOCKET;
    }
    return new DaemonClient(p);
  }

  /** Runs the daemon's main in this JVM; its classes load only now. */
  private static int daemon(String[] args, PrintWriter err) {
    try {
      Class<?> c = Class.forName("dev.inferno.daemon.DaemonMain");
      Object code = c.getMethod("run", String[].class).invoke(null, (Object) args);
      return (Integer) code;
    } catch (ClassNotFoundException e) {
      err.println(
          "inferno: the daemon is not on this installation's classpath (inferno-daemon jar missing)");
      err.flush();
      return 125;
    } catch (InvocationTargetException e) {
      err.println("inferno: " + e.getCause());
      err.flush();
      return 1;
    } catch (ReflectiveOperationException e) {
      err.println("inferno: cannot start the daemon: " + e);
      err.flush();
      return 125;
    }
  }

  /** `server` and `init` as the CLI lists them; {@link #run} hands them to the daemon's parser. */
  private record DaemonVerb(String name, String description) implements Verb {
    @Override
    public CommandSpec spec() {
      return Verb.command(this, name, description);
    }

    @Override
    public int run() {
      throw new CliException(
          "`inferno " + name + "` runs in the daemon: see `inferno " + name + " --help`");
    }
  }
}
