package dev.inferno.cli;

import dev.inferno.model.VmSummary;
import dev.inferno.model.json.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** {@code inferno ps}. */
final class PsCommand implements Verb {
  private final OptionSpec allOpt = Verb.flag("show all VMs, not only running ones", "-a", "--all");
  private final OptionSpec quietOpt = Verb.flag("only ids", "-q", "--quiet");
  private final OptionSpec formatOpt =
      Verb.option(
          String.class, "format", "table (default) or json (one object per line)", "--format");
  private final OptionSpec noTruncOpt = Verb.flag("full ids and commands", "--no-trunc");

  @Override
  public CommandSpec spec() {
    return Verb.command(this, "ps", "List VMs (running ones unless -a).")
        .addOption(allOpt)
        .addOption(quietOpt)
        .addOption(formatOpt)
        .addOption(noTruncOpt);
  }

  @Override
  public int run() throws Exception {
    boolean all = allOpt.getValue();
    boolean quiet = quietOpt.getValue();
    boolean noTrunc = noTruncOpt.getValue();
    String format = formatOpt.getValue() == null ? "table" : formatOpt.getValue();
    if (!format.equals("table") && !format.equals("json")) {
      throw new CliException("invalid --format " + format + ": table or json");
    }
    List<VmSummary> vms =
        Main.client().list("GET", "/v1/vms" + (all ? "?all=true" : ""), VmSummary.class);
    StringBuilder sb = new StringBuilder();
    if (quiet) {
      for (VmSummary v : vms) {
        sb.append(noTrunc ? v.id() : Format.shortId(v.id())).append('\n');
      }
    } else if (format.equals("json")) {
      for (VmSummary v : vms) {
        sb.append(Json.write(v)).append('\n');
      }
    } else {
      Instant now = Instant.now();
      List<List<String>> rows = new ArrayList<>();
      for (VmSummary v : vms) {
        rows.add(
            List.of(
                noTrunc ? String.valueOf(v.id()) : Format.shortId(v.id()),
                String.valueOf(v.image()),
                noTrunc ? "\"" + String.join(" ", v.command()) + "\"" : Format.command(v.command()),
                Format.ago(v.createdAt(), now),
                Format.status(v, now),
                Format.ports(v.ports()),
                String.valueOf(v.name())));
      }
      sb.append(
          Format.table(
              List.of("VM ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"), rows));
    }
    System.out.print(sb);
    System.out.flush();
    return 0;
  }
}
