package dev.inferno.cli;

import dev.inferno.model.VmDetail;
import dev.inferno.model.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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

  @Command(
      name = "stop",
      description = "Stop running VMs (stop signal, then kill after the timeout).")
  static final class Stop implements Callable<Integer> {
    @Option(
        names = {"-t", "--time"},
        description = "seconds to wait before killing")
    Integer time;

    @Option(
        names = {"-s", "--signal"},
        description = "signal to send (default: the VM's stop signal)")
    String signal;

    @Parameters(arity = "1..*", paramLabel = "VM")
    List<String> vms;

    @Override
    public Integer call() {
      List<String> q = new ArrayList<>();
      if (time != null) {
        q.add("timeout=" + time);
      }
      if (signal != null) {
        q.add("signal=" + DaemonClient.enc(signal));
      }
      String query = q.isEmpty() ? "" : "?" + String.join("&", q);
      return each(vms, (c, ref) -> c.call("POST", "/v1/vms/" + ref + "/stop" + query, null));
    }
  }

  @Command(name = "kill", description = "Send a signal (default SIGKILL) to running VMs.")
  static final class Kill implements Callable<Integer> {
    @Option(
        names = {"-s", "--signal"},
        description = "signal to send (default SIGKILL)")
    String signal;

    @Parameters(arity = "1..*", paramLabel = "VM")
    List<String> vms;

    @Override
    public Integer call() {
      String query = signal == null ? "" : "?signal=" + DaemonClient.enc(signal);
      return each(vms, (c, ref) -> c.call("POST", "/v1/vms/" + ref + "/kill" + query, null));
    }
  }

  @Command(name = "rm", description = "Remove VMs.")
  static final class Rm implements Callable<Integer> {
    @Option(
        names = {"-f", "--force"},
        description = "kill running VMs first")
    boolean force;

    @Parameters(arity = "1..*", paramLabel = "VM")
    List<String> vms;

    @Override
    public Integer call() {
      String query = force ? "?force=true" : "";
      return each(vms, (c, ref) -> c.call("DELETE", "/v1/vms/" + ref + query, null));
    }
  }

  @Command(name = "inspect", description = "Show VMs in detail (JSON).")
  static final class Inspect implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "VM")
    List<String> vms;

    @Override
    public Integer call() {
      List<VmDetail> out = new ArrayList<>();
      int code = 0;
      for (String ref : vms) {
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
