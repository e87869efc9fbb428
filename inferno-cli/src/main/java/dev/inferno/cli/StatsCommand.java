package dev.inferno.cli;

import dev.inferno.model.VmStats;
import dev.inferno.model.VmSummary;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * {@code inferno stats}: Docker's table of CPU, memory, network and block I/O and PIDs per VM,
 * redrawn every second (or once with {@code --no-stream}); {@code --format json} prints one object
 * per VM and reading instead.
 */
final class StatsCommand implements Verb {
  static final List<String> HEADER =
      List.of(
          "VM ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS");

  private final OptionSpec allOpt = Verb.flag("all VMs (stopped ones read as --)", "-a", "--all");
  private final OptionSpec noStreamOpt = Verb.flag("print one reading and exit", "--no-stream");
  private final OptionSpec formatOpt =
      Verb.option(
          String.class, "format", "table (default) or json (one object per line)", "--format");
  private final OptionSpec noTruncOpt = Verb.flag("full ids", "--no-trunc");
  private final PositionalParamSpec vmsParam =
      Verb.positional("0..*", "0..*", "VM", "the VMs (default: the running ones)");

  @Override
  public CommandSpec spec() {
    return Verb.command(this, "stats", "Show the VMs' resource use (live, like docker stats).")
        .addOption(allOpt)
        .addOption(noStreamOpt)
        .addOption(formatOpt)
        .addOption(noTruncOpt)
        .addPositional(vmsParam);
  }

  /** One row: a reading, or only the name of a VM that is not running. */
  record Row(String id, String name, VmStats stats) {}

  @Override
  public int run() throws Exception {
    String format = formatOpt.getValue() == null ? "table" : formatOpt.getValue();
    if (!format.equals("table") && !format.equals("json")) {
      throw new CliException("invalid --format " + format + ": table or json");
    }
    boolean stream = !Boolean.TRUE.equals(noStreamOpt.getValue());
    boolean json = format.equals("json");
    List<String> named = Verb.list(vmsParam);
    boolean all = Boolean.TRUE.equals(allOpt.getValue());
    DaemonClient client = Main.client();
    PrintStream out = System.out;
    boolean tty = System.console() instanceof java.io.Console c && c.isTerminal() && !json;
    while (true) {
      List<Row> rows = read(client, named, all);
      if (!named.isEmpty() && rows.stream().allMatch(r -> r.stats() == null) && !stream) {
        // every VM asked for is missing or stopped: Docker's exit status then
        out.print(render(rows, json));
        return 1;
      }
      String text = render(rows, json);
      if (stream && tty) {
        out.print("\033[2J\033[H"); // redraw in place, as docker stats does on a terminal
      }
      out.print(text);
      out.flush();
      if (!stream) {
        return 0;
      }
      Thread.sleep(1000 - ThreadLocalRandom.current().nextInt(50));
    }
  }

  /** The rows to show, the VMs read at once (each answer is immediate once the VM runs). */
  private static List<Row> read(DaemonClient client, List<String> named, boolean all)
      throws IOException, InterruptedException {
    List<String[]> vms = new ArrayList<>(); // {ref, name-or-null}
    if (named.isEmpty()) {
      for (VmSummary v :
          client.list("GET", "/v1/vms" + (all ? "?all=true" : ""), VmSummary.class)) {
        vms.add(new String[] {v.id(), v.name()});
      }
    } else {
      for (String n : named) {
        vms.add(new String[] {n, null});
      }
    }
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Row>> tasks = new ArrayList<>();
      for (String[] v : vms) {
        tasks.add(pool.submit(() -> one(client, v[0], v[1])));
      }
      List<Row> rows = new ArrayList<>();
      for (Future<Row> t : tasks) {
        try {
          rows.add(t.get());
        } catch (ExecutionException e) {
          if (e.getCause() instanceof IOException io) {
            throw io;
          }
          if (e.getCause() instanceof RuntimeException re) {
            throw re;
          }
          throw new IOException(e.getCause());
        }
      }
      return rows;
    }
  }

  private static Row one(DaemonClient client, String ref, String name) throws IOException {
    UnixHttpClient.Response r =
        client.send("GET", "/v1/vms/" + DaemonClient.enc(ref) + "/stats?stream=0", null);
    String text = r.text();
    if (r.status() == 200) {
      VmStats s = Json.read(text, VmStats.class);
      return new Row(s.id(), s.name(), s);
    }
    if (r.status() == 409) {
      return new Row(ref, name == null ? ref : name, null); // not running: a row of --
    }
    throw DaemonClient.error(r.status(), text);
  }

  private String render(List<Row> rows, boolean json) {
    StringBuilder sb = new StringBuilder();
    if (json) {
      for (Row r : rows) {
        if (r.stats() != null) {
          sb.append(Json.write(r.stats())).append('\n');
        }
      }
      return sb.toString();
    }
    boolean noTrunc = Boolean.TRUE.equals(noTruncOpt.getValue());
    List<List<String>> cells = new ArrayList<>();
    for (Row r : rows) {
      cells.add(cells(r, noTrunc));
    }
    return Format.table(HEADER, cells);
  }

  /** Docker's cells: memory in binary units, I/O in decimal ones. */
  static List<String> cells(Row r, boolean noTrunc) {
    String id = noTrunc || r.id().length() < 12 ? r.id() : Format.shortId(r.id());
    VmStats s = r.stats();
    if (s == null) {
      return List.of(id, r.name(), "--", "-- / --", "--", "-- / --", "-- / --", "--");
    }
    String mem =
        s.memoryLimitBytes() > 0
            ? String.format(
                Locale.ROOT, "%.2f%%", 100.0 * s.memoryUsageBytes() / s.memoryLimitBytes())
            : "--";
    return List.of(
        id,
        s.name(),
        s.cpuPercent() == null ? "--" : String.format(Locale.ROOT, "%.2f%%", s.cpuPercent()),
        binary(s.memoryUsageBytes()) + " / " + binary(s.memoryLimitBytes()),
        mem,
        decimal(s.netRxBytes()) + " / " + decimal(s.netTxBytes()),
        decimal(s.blockReadBytes()) + " / " + decimal(s.blockWriteBytes()),
        Long.toString(s.pids()));
  }

  /** go-units' BytesSize: 1024-based, two decimals trimmed ("12.5MiB", "256MiB", "0B"). */
  static String binary(long b) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = b;
    int i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return trim(String.format(Locale.ROOT, "%.4g", v)) + units[i];
  }

  /** go-units' HumanSizeWithPrecision(…, 3): 1000-based ("1.23kB", "648B", "4.1MB"). */
  static String decimal(long b) {
    String[] units = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = b;
    int i = 0;
    while (v >= 1000 && i < units.length - 1) {
      v /= 1000;
      i++;
    }
    return trim(String.format(Locale.ROOT, "%.3g", v)) + units[i];
  }

  private static String trim(String n) {
    if (n.contains("e") || !n.contains(".")) {
      return n;
    }
    n = n.replaceAll("0+$", "");
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }
}
