package dev.inferno.cli;

import dev.inferno.model.VmSummary;
import dev.inferno.model.json.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** {@code inferno ps}. */
final class PsCommand extends LeanVerb {
  static final Grammar.Option ALL =
      Grammar.flag("show all VMs, not only running ones", "-a", "--all");
  static final Grammar.Option QUIET = Grammar.flag("only ids", "-q", "--quiet");
  static final Grammar.Option FORMAT =
      Grammar.option(
          String.class, "format", "table (default) or json (one object per line)", "--format");
  static final Grammar.Option NO_TRUNC = Grammar.flag("full ids and commands", "--no-trunc");
  static final Grammar GRAMMAR =
      new Grammar(
          "ps",
          "List VMs (running ones unless -a).",
          List.of(ALL, QUIET, FORMAT, NO_TRUNC),
          List.of());

  @Override
  Grammar grammar() {
    return GRAMMAR;
  }

  @Override
  int run(Grammar.Args args) throws Exception {
    boolean all = args.flag(ALL);
    boolean quiet = args.flag(QUIET);
    boolean noTrunc = args.flag(NO_TRUNC);
    String format = args.value(FORMAT) == null ? "table" : args.value(FORMAT);
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
