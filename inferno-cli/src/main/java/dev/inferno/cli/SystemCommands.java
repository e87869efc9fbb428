package dev.inferno.cli;

import dev.inferno.model.SystemInfo;
import dev.inferno.model.VersionInfo;
import picocli.AutoComplete;
import picocli.CommandLine.Model.CommandSpec;

/** version, info, completion. */
final class SystemCommands {
  private SystemCommands() {}

  static final class Version implements Verb {
    @Override
    public CommandSpec spec() {
      return Verb.command(this, "version", "Show the client's and the daemon's versions.");
    }

    @Override
    public int run() throws Exception {
      System.out.println("Client:");
      System.out.println(" Version:      " + Main.VERSION);
      System.out.println(" Java:         " + System.getProperty("java.version"));
      VersionInfo v = Main.client().call("GET", "/v1/version", null, VersionInfo.class);
      System.out.println("Server:");
      System.out.println(" Version:      " + v.version());
      System.out.println(" API version:  " + v.apiVersion());
      System.out.println(" Java:         " + v.javaVersion());
      System.out.println(" OS/Arch:      " + v.os() + "/" + v.arch());
      return 0;
    }
  }

  static final class InfoCommand implements Verb {
    @Override
    public CommandSpec spec() {
      return Verb.command(this, "info", "Show the daemon's VMM, KVM, kernel and counts.");
    }

    @Override
    public int run() throws Exception {
      SystemInfo i = Main.client().call("GET", "/v1/info", null, SystemInfo.class);
      System.out.println("VMs: " + i.vms());
      System.out.println(" Running: " + i.running());
      System.out.println(" Exited: " + i.exited());
      System.out.println("Images: " + i.images());
      System.out.println("VMM: " + i.vmm());
      System.out.println("KVM: " + (i.kvm() ? "yes" : "no"));
      System.out.println("Kernel: " + i.kernel());
      System.out.println("State dir: " + i.stateDir());
      System.out.println("Socket: " + Main.client().socket());
      return 0;
    }
  }

  static final class Completion implements Verb {
    private CommandSpec spec;

    @Override
    public CommandSpec spec() {
      spec =
          Verb.command(
              this,
              "completion",
              "Print a bash/zsh completion script: source <(inferno completion)");
      return spec;
    }

    @Override
    public int run() {
      System.out.print(AutoComplete.bash("inferno", spec.root().commandLine()));
      return 0;
    }
  }
}
