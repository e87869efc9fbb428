package dev.inferno.cli;

import dev.inferno.model.json.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
  @SuppressWarnings("unchecked")
  public Integer call() throws Exception {
    if (!format.equals("table") && !format.equals("json")) {
      throw new CliException("invalid --format " + format + ": table or json");
    }
    List<Map<String, Object>> vms =
        (List<Map<String, Object>>)
            Main.client().call("GET", "/v1/vms" + (all ? "?all=true" : ""), null);
    StringBuilder sb = new StringBuilder();
    if (quiet) {
      for (Map<String, Object> v : vms) {
        sb.append(noTrunc ? v.get("id") : Format.shortId(v.get("id"))).append('\n');
      }
    } else if (format.equals("json")) {
      for (Map<String, Object> v : vms) {
        sb.append(Json.write(v)).append('\n');
      }
    } else {
      Instant now = Instant.now();
      List<List<String>> rows = new ArrayList<>();
      for (Map<String, Object> v : vms) {
        rows.add(
            List.of(
                noTrunc ? String.valueOf(v.get("id")) : Format.shortId(v.get("id")),
                String.valueOf(v.get("image")),
                noTrunc
                    ? "\"" + String.join(" ", (List<String>) v.get("command")) + "\""
                    : Format.command(v.get("command")),
                Format.ago(v.get("createdAt"), now),
                Format.status(v, now),
                String.valueOf(v.get("name"))));
      }
      sb.append(
          Format.table(List.of("VM ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"), rows));
    }
    System.out.print(sb);
    System.out.flush();
    return 0;
  }
}
