package dev.inferno.cli;

import dev.inferno.model.VmDetail;
import dev.inferno.model.json.Json;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** stop, kill, rm, inspect: each takes names, ids or id prefixes. */
final class VmCommands {
  private VmCommands() {}

  /**
   * Runs op for each ref; prints the ref on success, one error line per failure; 1 if any failed.
   */
  static int each(List<String> refs, Op op) {
    int code = 0;
    for (String ref : refs) {
      try {
        op.apply(Main.client(), DaemonClient.enc(ref));
        System.out.println(ref);
      } catch (Exception e) {
        System.err.println("inferno: " + e.getMessage());
        code = 1;
      }
    }
    return code;
  }

  @FunctionalInterface
  interface Op {
    void apply(DaemonClient c, String ref) throws Exception;
  }

  /** stop, kill and rm: one request per VM. */
  private abstract static class EachVm implements Verb {
    final PositionalParamSpec vms = Verb.positional("0", "1..*", "VM", null);
  }

  static final class Stop extends EachVm {
    private final OptionSpec time =
        Verb.option(Integer.class, "time", "seconds to wait before killing", "-t", "--time");
    private final OptionSpec signal =
        Verb.option(
            String.class,
            "signal",
            "signal to send (default: the VM's stop signal)",
            "-s",
            "--signal");

    @Override
    public CommandSpec spec() {
      return Verb.command(
              this, "stop", "Stop running VMs (stop signal, then kill after the timeout).")
          .addOption(time)
          .addOption(signal)
          .addPositional(vms);
    }

    @Override
    public int run() {
      Integer t = time.getValue();
      String s = signal.getValue();
      List<String> q = new ArrayList<>();
      if (t != null) {
        q.add("timeout=" + t);
      }
      if (s != null) {
        q.add("signal=" + DaemonClient.enc(s));
      }
      String query = q.isEmpty() ? "" : "?" + String.join("&", q);
      return each(
          Verb.list(vms), (c, ref) -> c.call("POST", "/v1/vms/" + ref + "/stop" + query, null));
    }
  }

  static final class Kill extends EachVm {
    private final OptionSpec signal =
        Verb.option(String.class, "signal", "signal to send (default SIGKILL)", "-s", "--signal");

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "kill", "Send a signal (default SIGKILL) to running VMs.")
          .addOption(signal)
          .addPositional(vms);
    }

    @Override
    public int run() {
      String s = signal.getValue();
      String query = s == null ? "" : "?signal=" + DaemonClient.enc(s);
      return each(
          Verb.list(vms), (c, ref) -> c.call("POST", "/v1/vms/" + ref + "/kill" + query, null));
    }
  }

  static final class Rm extends EachVm {
    private final OptionSpec force = Verb.flag("kill running VMs first", "-f", "--force");
    private final OptionSpec volumes =
        Verb.flag("remove their anonymous volumes too (named ones stay)", "-v", "--volumes");

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "rm", "Remove VMs.")
          .addOption(force)
          .addOption(volumes)
          .addPositional(vms);
    }

    @Override
    public int run() {
      boolean f = force.getValue();
      boolean v = volumes.getValue();
      String query =
          f && v ? "?force=true&volumes=true" : f ? "?force=true" : v ? "?volumes=true" : "";
      return each(Verb.list(vms), (c, ref) -> c.call("DELETE", "/v1/vms/" + ref + query, null));
    }
  }

  static final class Inspect extends LeanVerb {
    static final Grammar.Param VMS = new Grammar.Param("VM", 1, true, null);
    static final Grammar GRAMMAR =
        new Grammar("inspect", "Show VMs in detail (JSON).", List.of(), List.of(VMS));

    @Override
    Grammar grammar() {
      return GRAMMAR;
    }

    @Override
    int run(Grammar.Args args) {
      List<VmDetail> out = new ArrayList<>();
      int code = 0;
      for (String ref : args.params(VMS)) {
        try {
          out.add(
              Main.client().call("GET", "/v1/vms/" + DaemonClient.enc(ref), null, VmDetail.class));
        } catch (Exception e) {
          System.err.println("inferno: " + e.getMessage());
          code = 1;
        }
      }
      System.out.println(Json.pretty(out));
      return code;
    }
  }
}
