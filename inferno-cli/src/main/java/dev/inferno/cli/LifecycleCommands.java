package dev.inferno.cli;

import dev.inferno.model.ApiError;
import dev.inferno.model.Event;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.UpdateRequest;
import dev.inferno.model.UpdateResult;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import dev.inferno.model.stream.Frame;
import dev.inferno.model.units.Sizes;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** start, restart, pause, unpause, rename, update, wait, events: Docker's life cycle verbs. */
final class LifecycleCommands {
  private LifecycleCommands() {}

  private static String vmPath(String ref, String action) {
    return "/v1/vms/" + ref + "/" + action;
  }

  /** Starts a VM; one that already runs is no error (the daemon's 304, as Docker). */
  static void start(DaemonClient c, String ref) throws IOException {
    UnixHttpClient.Response r = c.send("POST", vmPath(ref, "start"), null);
    if (r.status() != 204 && r.status() != 304) {
      throw DaemonClient.error(r);
    }
    r.close();
  }

  /** {@code start [-a] [-i] VM…}: boots created or exited VMs (again on their disks). */
  static final class Start implements Verb {
    private final OptionSpec attach =
        Verb.flag("attach the VM's output and exit with its code", "-a", "--attach");
    private final OptionSpec interactive =
        Verb.flag("attach the VM's stdin (with -a)", "-i", "--interactive");
    private final OptionSpec detachKeys = SessionCommands.detachKeysOption();
    private final PositionalParamSpec vms = Verb.positional("0", "1..*", "VM", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "start", "Start created or stopped VMs (on their own disks).")
          .addOption(attach)
          .addOption(interactive)
          .addOption(detachKeys)
          .addPositional(vms);
    }

    @Override
    public int run() throws Exception {
      List<String> refs = Verb.list(vms);
      boolean a = attach.getValue();
      boolean i = interactive.getValue();
      if (!a && !i) {
        return VmCommands.each(refs, LifecycleCommands::start);
      }
      if (refs.size() > 1) {
        throw CliException.badInput("you cannot start and attach multiple VMs at once");
      }
      DaemonClient client = Main.client();
      String vm = DaemonClient.enc(refs.getFirst());
      if (i) {
        // the attach comes after the start: it asks for the output from just before the start on,
        // so nothing the VM wrote before the attach arrived is lost
        Instant before = Instant.now();
        start(client, vm);
        Terminal term = SessionCommands.terminal(false, true);
        return SessionCommands.attach(
            client, vm, true, true, false, before, detachKeys.getValue(), term, false);
      }
      // the output of this boot from its first byte: every boot's records are kept, so read
      // from just before the start on (no race with a VM that exits at once)
      Instant before = Instant.now();
      start(client, vm);
      UnixHttpClient.Response r =
          client.send(
              "GET", vmPath(vm, "logs") + "?follow=true&since=" + TimeArgs.query(before), null);
      if (r.status() != 200) {
        throw DaemonClient.error(r);
      }
      try (r) {
        for (Frame f = Frame.readFrom(r.body()); f != null; f = Frame.readFrom(r.body())) {
          switch (f.kind()) {
            case STDOUT -> {
              System.out.write(f.payload());
              System.out.flush();
            }
            case STDERR -> {
              System.err.write(f.payload());
              System.err.flush();
            }
            case EXIT -> {
              ExitRecord e = Json.read(f.text(), ExitRecord.class);
              return e.code() == null ? 125 : e.code();
            }
            case ERROR ->
                throw new CliException(
                    String.valueOf(Json.read(f.text(), ApiError.class).message()));
            default -> {}
          }
        }
      }
      return 0;
    }
  }

  /** {@code restart [-t] VM…}. */
  static final class Restart implements Verb {
    private final OptionSpec time =
        Verb.option(Integer.class, "time", "seconds to wait before killing", "-t", "--time");
    private final PositionalParamSpec vms = Verb.positional("0", "1..*", "VM", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "restart", "Stop (if running) and start VMs again.")
          .addOption(time)
          .addPositional(vms);
    }

    @Override
    public int run() {
      Integer t = time.getValue();
      String q = t == null ? "" : "?t=" + t;
      return VmCommands.each(
          Verb.list(vms), (c, ref) -> c.call("POST", vmPath(ref, "restart") + q, null));
    }
  }

  /** {@code pause VM…} and {@code unpause VM…}. */
  static final class Pause implements Verb {
    private final boolean pause;
    private final PositionalParamSpec vms = Verb.positional("0", "1..*", "VM", null);

    Pause(boolean pause) {
      this.pause = pause;
    }

    @Override
    public CommandSpec spec() {
      return pause
          ? Verb.command(this, "pause", "Freeze running VMs (their vCPUs stop).").addPositional(vms)
          : Verb.command(this, "unpause", "Let paused VMs run on.").addPositional(vms);
    }

    @Override
    public int run() {
      String action = pause ? "pause" : "unpause";
      return VmCommands.each(Verb.list(vms), (c, ref) -> c.call("POST", vmPath(ref, action), null));
    }
  }

  /** {@code rename VM NEW_NAME}. */
  static final class Rename implements Verb {
    private final PositionalParamSpec vm = Verb.positional("0", "1", "VM", "the VM");
    // optional to picocli, checked here: an unknown option is reported before a missing name
    private final PositionalParamSpec name =
        Verb.positional("1", "0..1", "NEW_NAME", "its new name");

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "rename", "Rename a VM.").addPositional(vm).addPositional(name);
    }

    @Override
    public int run() throws Exception {
      if (name.getValue() == null) {
        throw CliException.badInput(
            "\"rename\" requires exactly 2 arguments: inferno rename VM NEW_NAME");
      }
      Main.client()
          .call(
              "POST",
              vmPath(DaemonClient.enc(vm.getValue()), "rename")
                  + "?name="
                  + DaemonClient.enc(name.getValue()),
              null);
      return 0;
    }
  }

  /**
   * {@code update [--restart P] [--memory M] [--cpus N] VM…}: each VM's ref on success, one error
   * line per failure (as stop); the daemon's warnings after them on stderr.
   */
  static final class Update implements Verb {
    private final OptionSpec restart =
        Verb.option(
            String.class,
            "policy",
            "restart policy: no, on-failure[:N], always, unless-stopped (from the next exit)",
            "--restart");
    private final OptionSpec memory =
        Verb.option(
            String.class,
            "memory",
            "memory, e.g. 512m or 1g (from the next boot)",
            "-m",
            "--memory");
    private final OptionSpec cpus =
        Verb.option(Double.class, "cpus", "vCPUs (from the next boot)", "--cpus");
    private final PositionalParamSpec vms = Verb.positional("0", "1..*", "VM", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(
              this, "update", "Change VMs' restart policy, memory or vCPUs (docker update).")
          .addOption(restart)
          .addOption(memory)
          .addOption(cpus)
          .addPositional(vms);
    }

    @Override
    public int run() {
      Long bytes = null;
      if (memory.getValue() != null) {
        try {
          bytes = Sizes.parse(memory.getValue());
        } catch (IllegalArgumentException e) {
          throw CliException.badInput(e.getMessage());
        }
      }
      UpdateRequest body = new UpdateRequest(restart.getValue(), bytes, cpus.getValue());
      if (body.empty()) {
        throw CliException.badInput(
            "nothing to update: give --restart, --memory or --cpus (inferno update --help)");
      }
      List<String> warnings = new ArrayList<>();
      int code =
          VmCommands.each(
              Verb.list(vms),
              (c, ref) -> {
                UpdateResult r = c.call("POST", vmPath(ref, "update"), body, UpdateResult.class);
                if (r.warnings() != null) {
                  warnings.addAll(r.warnings());
                }
              });
      for (String w : warnings) {
        System.err.println("WARNING: " + w);
      }
      return code;
    }
  }

  /** {@code wait [--condition] VM…}: prints each VM's exit code once it has stopped. */
  static final class Wait implements Verb {
    private final OptionSpec condition =
        Verb.option(
            String.class,
            "condition",
            "not-running (default), next-exit or removed",
            "--condition");
    private final PositionalParamSpec vms = Verb.positional("0", "1..*", "VM", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "wait", "Block until VMs stop, then print their exit codes.")
          .addOption(condition)
          .addPositional(vms);
    }

    @Override
    public int run() throws IOException {
      String c = condition.getValue();
      if (c != null && !List.of("not-running", "next-exit", "removed").contains(c)) {
        throw CliException.badInput(
            "invalid --condition " + c + ": not-running, next-exit or removed");
      }
      String q = c == null ? "" : "?condition=" + c;
      int code = 0;
      for (String ref : Verb.list(vms)) {
        try {
          ExitRecord e =
              Main.client()
                  .call("POST", vmPath(DaemonClient.enc(ref), "wait") + q, null, ExitRecord.class);
          System.out.println(e.code() == null ? -1 : e.code());
        } catch (CliException e) {
          System.err.println("inferno: " + e.getMessage());
          code = 1;
        }
      }
      return code;
    }
  }

  /** {@code events [--since] [--until] [--filter k=v]… [--format json]}. */
  static final class Events implements Verb {
    private static final DateTimeFormatter TIME =
        DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSXXX").withZone(ZoneOffset.UTC);

    private final OptionSpec since =
        Verb.option(
            String.class,
            "time",
            "replay remembered events from this time (RFC 3339, Unix seconds, or 10m)",
            "--since");
    private final OptionSpec until =
        Verb.option(String.class, "time", "stop at this time (same forms)", "--until");
    private final OptionSpec filter =
        Verb.repeated(
            String.class,
            "key=value",
            "vm=NAME|ID (or container=), volume=NAME, type=TYPE (or event=); repeatable",
            "-f",
            "--filter");
    private final OptionSpec format =
        Verb.option(String.class, "format", "text (default) or json (one per line)", "--format");

    @Override
    public CommandSpec spec() {
      return Verb.command(
              this, "events", "Stream the daemon's events (until Ctrl-C, or until --until).")
          .addOption(since)
          .addOption(until)
          .addOption(filter)
          .addOption(format);
    }

    @Override
    public int run() throws IOException {
      String f = format.getValue() == null ? "text" : format.getValue();
      if (!f.equals("text") && !f.equals("json")) {
        throw CliException.badInput("invalid --format " + f + ": text or json");
      }
      Instant now = Instant.now();
      List<String> q = new ArrayList<>();
      if (since.getValue() != null) {
        q.add("since=" + TimeArgs.query(TimeArgs.parse(since.getValue(), now)));
      }
      if (until.getValue() != null) {
        q.add("until=" + TimeArgs.query(TimeArgs.parse(until.getValue(), now)));
      }
      for (String kv : Verb.<String>list(filter)) {
        if (kv.indexOf('=') <= 0) {
          throw CliException.badInput("invalid --filter " + kv + ": expected vm=NAME or type=TYPE");
        }
        q.add("filter=" + DaemonClient.enc(kv));
      }
      UnixHttpClient.Response r =
          Main.client()
              .send("GET", "/v1/events" + (q.isEmpty() ? "" : "?" + String.join("&", q)), null);
      if (r.status() != 200) {
        throw DaemonClient.error(r);
      }
      try (r;
          BufferedReader in =
              new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          if (line.isBlank()) {
            continue; // the daemon's heartbeat
          }
          System.out.println(f.equals("json") ? line : text(Json.read(line, Event.class)));
          System.out.flush();
        }
      }
      return 0;
    }

    /** Docker's line: time, kind, action, id, attributes. */
    static String text(Event e) {
      boolean image =
          e.type().equals("pulled") || e.type().startsWith("image") || e.type().equals("loaded");
      String kind = image ? "image" : e.type().startsWith("volume-") ? "volume" : "vm";
      StringBuilder sb = new StringBuilder();
      sb.append(TIME.format(e.time()))
          .append(' ')
          .append(kind)
          .append(' ')
          .append(e.type())
          .append(' ')
          .append(e.id());
      List<String> attrs = new ArrayList<>();
      if (e.name() != null) {
        attrs.add("name=" + e.name());
      }
      if (e.exit() != null && e.exit().code() != null) {
        attrs.add("exitCode=" + e.exit().code());
      }
      if (e.attributes() != null) {
        e.attributes().forEach((k, v) -> attrs.add(k + "=" + v));
      }
      if (!attrs.isEmpty()) {
        sb.append(" (").append(String.join(", ", attrs)).append(')');
      }
      return sb.toString();
    }
  }
}
