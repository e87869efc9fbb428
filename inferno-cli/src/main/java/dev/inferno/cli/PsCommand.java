package dev.inferno.cli;

import dev.inferno.model.VmSummary;
import dev.inferno.model.json.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code inferno ps}. */
@Command(name = "ps", description = "List VMs (running ones unless -a).")
final class PsCommand implements Callable<Integer> {
  @Option(
      names = {"-a", "--all"},
      description = "show all VMs, not only running ones")
  boolean all;

  @Option(
      names = {"-q", "--quiet"},
      description = "only ids")
  boolean quiet;

  @Option(names = "--format", description = "table (default) or json (one object per line)")
  String format = "table";

  @Option(names = "--no-trunc", description = "full ids and commands")
  boolean noTrunc;

  @Override
  public Integer call() throws Exception {
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
                String.valueOf(v.name())));
      }
      sb.append(
          Format.table(List.of("VM ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"), rows));
    }
    System.out.print(sb);
    System.out.flush();
    return 0;
  }
}
