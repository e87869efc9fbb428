package dev.inferno.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** version, info, completion. */
final class SystemCommands {
  private SystemCommands() {}

  @Command(name = "version", description = "Show the client's and the daemon's versions.")
  static final class Version implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      System.out.println("Client:");
      System.out.println(" Version:      " + Main.VERSION);
      System.out.println(" Java:         " + System.getProperty("java.version"));
      Map<?, ?> v = (Map<?, ?>) Main.client().call("GET", "/v1/version", null);
      System.out.println("Server:");
      System.out.println(" Version:      " + v.get("version"));
      System.out.println(" API version:  " + v.get("apiVersion"));
      System.out.println(" Java:         " + v.get("javaVersion"));
      System.out.println(" OS/Arch:      " + v.get("os") + "/" + v.get("arch"));
      return 0;
    }
  }

  @Command(name = "info", description = "Show the daemon's VMM, KVM, kernel and counts.")
  static final class InfoCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      Map<?, ?> i = (Map<?, ?>) Main.client().call("GET", "/v1/info", null);
      System.out.println("VMs: " + i.get("vms"));
      System.out.println(" Running: " + i.get("running"));
      System.out.println(" Exited: " + i.get("exited"));
      System.out.println("Images: " + i.get("images"));
      System.out.println("VMM: " + i.get("vmm"));
      System.out.println("KVM: " + (Boolean.TRUE.equals(i.get("kvm")) ? "yes" : "no"));
      System.out.println("Kernel: " + i.get("kernel"));
      System.out.println("State dir: " + i.get("stateDir"));
      System.out.println("Socket: " + Main.client().socket());
      return 0;
    }
  }

  @Command(
      name = "completion",
      description = "Print a bash/zsh completion script: source <(inferno completion)")
  static final class Completion implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      System.out.print(AutoComplete.bash("inferno", spec.root().commandLine()));
      return 0;
    }
  }
}
