package dev.inferno.cli;

import dev.inferno.model.PublishedPort;
import dev.inferno.model.VmDetail;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * {@code inferno port VM [PRIVATE_PORT[/PROTO]]}: the VM's published ports as Docker prints them,
 * {@code 80/tcp -> 0.0.0.0:8080}; with a port, only its host side ({@code 0.0.0.0:8080}).
 */
final class PortCommand implements Verb {
  private final PositionalParamSpec vmParam = Verb.positional("0", "1", "VM", null);
  private final PositionalParamSpec portParam =
      Verb.positional(
          "1", "0..1", "PRIVATE_PORT[/PROTO]", "only this port of the VM (tcp unless /udp)");

  @Override
  public CommandSpec spec() {
    return Verb.command(this, "port", "List a VM's published ports.")
        .addPositional(vmParam)
        .addPositional(portParam);
  }

  @Override
  public int run() throws Exception {
    String vm = vmParam.getValue();
    String only = portParam.getValue();
    if (only != null) {
      only = only.toLowerCase(Locale.ROOT);
      if (!only.contains("/")) {
        only = only + "/tcp";
      }
      if (!only.matches("[0-9]{1,5}/(tcp|udp)")) {
        throw new CliException(
            "invalid port \"" + portParam.getValue() + "\": write PORT or PORT/tcp or PORT/udp");
      }
    }
    VmDetail d = Main.client().call("GET", "/v1/vms/" + DaemonClient.enc(vm), null, VmDetail.class);
    List<PublishedPort> ports =
        d.networkSettings() == null ? List.of() : d.networkSettings().ports();
    StringBuilder sb = new StringBuilder();
    for (PublishedPort p : ports) {
      if (only == null) {
        sb.append(p.privatePort()).append(" -> ").append(p.hostSide()).append('\n');
      } else if (only.equals(p.privatePort())) {
        sb.append(p.hostSide()).append('\n');
      }
    }
    if (only != null && sb.isEmpty()) {
      throw new CliException("no public port '" + only + "' published for " + vm);
    }
    System.out.print(sb);
    System.out.flush();
    return 0;
  }
}
