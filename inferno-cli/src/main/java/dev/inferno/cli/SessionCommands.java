package dev.inferno.cli;

import dev.inferno.model.Created;
import dev.inferno.model.ExecCreateRequest;
import dev.inferno.model.ExecDetail;
import dev.inferno.model.ExecStartRequest;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.VmDetail;
import dev.inferno.model.VmState;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import dev.inferno.model.stream.Multiplexed;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The interactive verbs — attach, exec, top — and the attach that {@code run -i/-t} shares: an
 * upgraded connection pumped by {@link Hijacked}, the terminal by {@link Terminal}.
 */
final class SessionCommands {
  private SessionCommands() {}

  static OptionSpec detachKeysOption() {
    return Verb.option(
        String.class,
        "keys",
        "the keys that detach and leave it running (default ctrl-p,ctrl-q)",
        "--detach-keys");
  }

  /** Where a TTY session's resizes go: the VM's main terminal or an exec's. */
  private static void resizeOn(DaemonClient client, String resizePath, Terminal term) {
    Runnable resize =
        () -> {
          int[] size = term.size();
          if (size == null) {
            return;
          }
          try {
            client.call("POST", resizePath + "?h=" + size[0] + "&w=" + size[1], null);
          } catch (IOException | RuntimeException e) {
            // the session is ending; a lost resize is harmless
          }
        };
    Terminal.onResize(() -> Thread.ofVirtual().start(resize));
    resize.run(); // the size now: it may have changed since the session was created
  }

  /**
   * Attaches to a VM's main process and returns its exit code, or 0 when the user detached (the
   * server closed while the VM still runs). Raw mode when term is given (a TTY VM, our stdin a
   * terminal, stdin attached). The output: the whole log with {@code logs}, else from {@code since}
   * when given ({@code start -i}: just before its start), else from the attach on. With {@code
   * untilRemoved} (run --rm) the exit is told once the VM is removed, as docker's run does, so a
   * command after it no longer finds the VM.
   */
  static int attach(
      DaemonClient client,
      String id,
      boolean stdin,
      boolean stdinOnce,
      boolean logs,
      Instant since,
      String detachKeys,
      Terminal term,
      boolean untilRemoved)
      throws IOException {
    String vm = DaemonClient.enc(id);
    // asked for now, before the VM can exit: with --rm it is gone (and its exit record) soon after
    String wait = "/v1/vms/" + vm + "/wait" + (untilRemoved ? "?condition=removed" : "");
    CompletableFuture<ExitRecord> exit =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return client.call("POST", wait, null, ExitRecord.class);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            r -> Thread.ofVirtual().start(r));
    String path =
        "/v1/vms/"
            + vm
            + "/attach?stream=1&stdin="
            + (stdin ? 1 : 0)
            + "&logs="
            + (logs ? 1 : 0)
            + "&stdinOnce="
            + (stdinOnce ? 1 : 0)
            + (since == null ? "" : "&since=" + TimeArgs.query(since))
            + (detachKeys == null ? "" : "&detachKeys=" + DaemonClient.enc(detachKeys));
    UnixHttpClient.Response r = client.upgrade("POST", path, null);
    if (!r.upgraded()) {
      if (r.status() == 409 && (logs || since != null)) {
        // it ran to its end before we attached (a short command): its log has all it wrote
        r.close();
        return replay(client, vm, logs ? null : since, exit);
      }
      throw DaemonClient.error(r);
    }
    boolean tty = Multiplexed.RAW_MEDIA_TYPE.equals(r.headers().get("content-type"));
    boolean sent;
    try (r;
        Terminal t = term) {
      if (t != null && tty) {
        t.raw();
        resizeOn(client, "/v1/vms/" + vm + "/resize", t);
      }
      sent = Hijacked.pump(r, tty, stdin ? System.in : null);
    }
    if (sent && !exit.isDone() && running(client, vm)) {
      return 0; // detached: the VM runs on, as docker's detach keys leave it
    }
    return exitCode(exit);
  }

  /** The VM's log (from {@code since} on, when not null), then its exit code. */
  private static int replay(
      DaemonClient client, String vm, Instant since, CompletableFuture<ExitRecord> exit)
      throws IOException {
    String path =
        "/v1/vms/" + vm + "/logs" + (since == null ? "" : "?since=" + TimeArgs.query(since));
    UnixHttpClient.Response logs = client.send("GET", path, null);
    if (logs.status() != 200) {
      throw DaemonClient.error(logs);
    }
    try (logs) {
      LogsCommand.copy(logs.body(), System.out, System.err, false);
    }
    return exitCode(exit);
  }

  /** Whether the VM runs; false once it is gone (--rm removed it after its exit). */
  private static boolean running(DaemonClient client, String vm) throws IOException {
    try {
      return client.call("GET", "/v1/vms/" + vm, null, VmDetail.class).state() == VmState.RUNNING;
    } catch (CliException e) {
      if (e.status() == 404) {
        return false;
      }
      throw e;
    }
  }

  private static int exitCode(CompletableFuture<ExitRecord> wait) throws IOException {
    ExitRecord exit;
    try {
      exit = wait.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted waiting for the VM to exit");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException(e.getCause());
    }
    if (exit.code() == null) {
      throw new CliException(
          "the VM ended without an exit code: "
              + (exit.reason() == null ? "unknown reason" : exit.reason()));
    }
    return exit.code();
  }

  /** The terminal for -t with -i, after checking that stdin is one (as docker does). */
  static Terminal terminal(boolean tty, boolean interactive) {
    if (!tty || !interactive) {
      return null;
    }
    Terminal t = Terminal.ofStdin();
    if (t == null) {
      throw new CliException("the input device is not a TTY: drop -t, or run from a terminal");
    }
    return t;
  }

  /** {@code inferno attach VM}: the main process's output from now on, our input to its stdin. */
  static final class Attach implements Verb {
    private final OptionSpec detachKeys = detachKeysOption();
    private final OptionSpec noStdin =
        Verb.flag("do not send our input to the VM (output only)", "--no-stdin");
    private final PositionalParamSpec vmParam = Verb.positional("0", "1", "VM", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(
              this,
              "attach",
              "Attach our input and output to a running VM's main process (detach: ctrl-p ctrl-q).")
          .addOption(detachKeys)
          .addOption(noStdin)
          .addPositional(vmParam);
    }

    @Override
    public int run() throws Exception {
      DaemonClient client = Main.client();
      String ref = vmParam.getValue();
      VmDetail d = client.call("GET", "/v1/vms/" + DaemonClient.enc(ref), null, VmDetail.class);
      if (d.state() != VmState.RUNNING) {
        throw new CliException("You cannot attach to a stopped VM");
      }
      boolean stdin = !Boolean.TRUE.equals(noStdin.getValue());
      Terminal term = stdin ? Terminal.ofStdin() : null;
      return attach(client, d.id(), stdin, false, false, null, detachKeys.getValue(), term, false);
    }
  }

  /** {@code inferno exec VM CMD…}: a new process in a running VM; its exit code. */
  static final class Exec implements Verb {
    private final OptionSpec interactive =
        Verb.flag("keep stdin open (send our input to the process)", "-i", "--interactive");
    private final OptionSpec tty = Verb.flag("give the process a terminal", "-t", "--tty");
    private final OptionSpec detach =
        Verb.flag("run it in the background (output discarded)", "-d", "--detach");
    private final OptionSpec env =
        Verb.repeated(
            String.class, "env", "set an environment variable (KEY=VALUE)", "-e", "--env");
    private final OptionSpec user =
        Verb.option(String.class, "user", "user[:group] to run as", "-u", "--user");
    private final OptionSpec workdir =
        Verb.option(String.class, "workdir", "working directory (absolute)", "-w", "--workdir");
    private final PositionalParamSpec vmParam = Verb.positional("0", "1", "VM", null);
    private final PositionalParamSpec cmdParam =
        // 0..* so that picocli reports an unknown option before a missing CMD; run() requires it
        Verb.positional("1..*", "0..*", "CMD", "command and arguments");

    @Override
    public CommandSpec spec() {
      CommandSpec spec =
          Verb.command(this, "exec", "Run a command in a running VM.")
              .addOption(interactive)
              .addOption(tty)
              .addOption(detach)
              .addOption(env)
              .addOption(user)
              .addOption(workdir)
              .addPositional(vmParam)
              .addPositional(cmdParam);
      spec.usageMessage().sortOptions(false);
      spec.parser().stopAtPositional(true); // `exec VM CMD -x`: -x is the command's
      return spec;
    }

    @Override
    public int run() throws Exception {
      if (Verb.list(cmdParam).isEmpty()) {
        throw CliException.badInput("exec needs a command: inferno exec VM CMD [ARG...]");
      }
      boolean i = interactive.getValue();
      boolean t = tty.getValue();
      boolean d = detach.getValue();
      String w = workdir.getValue();
      if (w != null && !w.startsWith("/")) {
        throw CliException.badInput(
            "the working directory '" + w + "' is invalid, it needs to be an absolute path");
      }
      List<String> envs = new ArrayList<>();
      for (String e : Verb.<String>list(env)) {
        if (e.indexOf('=') > 0) {
          envs.add(e);
        } else if (e.isEmpty() || e.startsWith("=")) {
          throw CliException.badInput(
              "invalid environment variable \"" + e + "\": expected KEY=VALUE");
        } else if (System.getenv(e) != null) {
          envs.add(e + "=" + System.getenv(e)); // docker's -e KEY: pass ours when set
        }
      }
      Terminal term = d ? null : terminal(t, i);
      int[] size = term == null ? null : term.size();
      ExecCreateRequest body =
          new ExecCreateRequest(
              Verb.list(cmdParam),
              envs,
              user.getValue(),
              w,
              t,
              i && !d,
              size == null ? null : List.of(size[0], size[1]));
      DaemonClient client = Main.client();
      String vm = DaemonClient.enc(vmParam.getValue());
      String id = client.call("POST", "/v1/vms/" + vm + "/exec", body, Created.class).id();
      String exec = "/v1/exec/" + DaemonClient.enc(id);
      if (d) {
        client.call("POST", exec + "/start", new ExecStartRequest(true));
        return 0;
      }
      UnixHttpClient.Response r =
          client.upgrade("POST", exec + "/start", Json.write(new ExecStartRequest(false)));
      if (!r.upgraded()) {
        throw DaemonClient.error(r);
      }
      boolean sent;
      try (r;
          Terminal held = term) {
        if (held != null) {
          held.raw();
          resizeOn(client, exec + "/resize", held);
        }
        sent = Hijacked.pump(r, t, i ? System.in : null);
      }
      // the output ended: the exec has exited (or we detached); its code comes from inspect
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (true) {
        ExecDetail state = client.call("GET", exec, null, ExecDetail.class);
        if (!state.running() && state.exitCode() != null) {
          return state.exitCode();
        }
        if (sent && state.running()) {
          return 0; // detached: it runs on
        }
        if (System.nanoTime() > deadline) {
          throw new CliException("the exec's output ended but the daemon reports no exit code");
        }
        Thread.sleep(50);
      }
    }
  }

  /** {@code inferno top VM}: the VM's processes, as docker top prints them. */
  static final class Top implements Verb {
    private final PositionalParamSpec vmParam = Verb.positional("0", "1", "VM", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "top", "Show the processes running in a VM.")
          .addPositional(vmParam);
    }

    @Override
    @SuppressWarnings("unchecked")
    public int run() throws Exception {
      UnixHttpClient.Response r =
          Main.client()
              .send("GET", "/v1/vms/" + DaemonClient.enc(vmParam.getValue()) + "/top", null);
      if (r.status() != 200) {
        throw DaemonClient.error(r);
      }
      Map<String, Object> top = Json.parseObject(r.text());
      List<String> titles = new ArrayList<>();
      for (Object o : (List<Object>) top.get("Titles")) {
        titles.add(String.valueOf(o));
      }
      List<List<String>> rows = new ArrayList<>();
      for (Object row : (List<Object>) top.get("Processes")) {
        List<String> cells = new ArrayList<>();
        for (Object c : (List<Object>) row) {
          cells.add(String.valueOf(c));
        }
        rows.add(cells);
      }
      System.out.print(Format.table(titles, rows));
      return 0;
    }
  }
}
