package dev.inferno.cli;

import dev.inferno.model.Volume;
import dev.inferno.model.VolumeCreateRequest;
import dev.inferno.model.VolumePruneResult;
import dev.inferno.model.json.Json;
import dev.inferno.model.units.Sizes;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code inferno volume create|ls|inspect|rm|prune}: Docker's volume verbs. */
final class VolumeCommands implements Verb {
  private CommandSpec spec;

  @Override
  public CommandSpec spec() {
    spec = Verb.command(this, "volume", "Manage volumes (ext4 disks a VM mounts with -v).");
    for (Verb sub : List.of(new Create(), new Ls(), new Inspect(), new Rm(), new Prune())) {
      CommandSpec s = sub.spec().addOption(Main.help());
      spec.addSubcommand(s.name(), new CommandLine(s));
    }
    return spec;
  }

  /** {@code inferno volume} alone: its usage, as {@code docker volume} prints. */
  @Override
  public int run() {
    spec.commandLine().usage(System.out);
    return 0;
  }

  static final class Create implements Verb {
    private final OptionSpec size =
        Verb.option(
            String.class,
            "size",
            "the filesystem's size, e.g. 1g (default: the daemon's)",
            "--size");
    private final OptionSpec label = Verb.repeated(String.class, "key=value", "a label", "--label");
    private final PositionalParamSpec name =
        Verb.positional("0", "0..1", "NAME", "its name (none: an anonymous volume)");

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "create", "Create a volume.")
          .addOption(size)
          .addOption(label)
          .addPositional(name);
    }

    @Override
    public int run() throws Exception {
      Long bytes = null;
      if (size.getValue() != null) {
        try {
          bytes = Sizes.parse(size.getValue());
        } catch (IllegalArgumentException e) {
          throw CliException.badInput("invalid --size: " + e.getMessage());
        }
      }
      Map<String, String> labels = new LinkedHashMap<>();
      for (String l : Verb.<String>list(label)) {
        int eq = l.indexOf('=');
        if (eq <= 0) {
          throw CliException.badInput("invalid --label \"" + l + "\": expected key=value");
        }
        labels.put(l.substring(0, eq), l.substring(eq + 1));
      }
      Volume v =
          Main.client()
              .call(
                  "POST",
                  "/v1/volumes",
                  new VolumeCreateRequest(name.getValue(), bytes, labels.isEmpty() ? null : labels),
                  Volume.class);
      System.out.println(v.name());
      return 0;
    }
  }

  static final class Ls implements Verb {
    private final OptionSpec quiet = Verb.flag("only volume names", "-q", "--quiet");
    private final OptionSpec format =
        Verb.option(String.class, "format", "table (default) or json", "--format");

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "ls", "List volumes.").addOption(quiet).addOption(format);
    }

    @Override
    public int run() throws Exception {
      String f = format.getValue() == null ? "table" : format.getValue();
      if (!f.equals("table") && !f.equals("json")) {
        throw CliException.badInput("invalid --format " + f + ": table or json");
      }
      List<Volume> all = Main.client().list("GET", "/v1/volumes", Volume.class);
      StringBuilder sb = new StringBuilder();
      boolean q = quiet.getValue();
      if (q) {
        all.forEach(v -> sb.append(v.name()).append('\n'));
      } else if (f.equals("json")) {
        all.forEach(v -> sb.append(Json.write(v)).append('\n'));
      } else {
        List<List<String>> rows = new ArrayList<>();
        for (Volume v : all) {
          rows.add(List.of(v.driver(), v.name(), Sizes.human(v.sizeBytes())));
        }
        sb.append(Format.table(List.of("DRIVER", "VOLUME NAME", "SIZE"), rows));
      }
      System.out.print(sb);
      return 0;
    }
  }

  static final class Inspect implements Verb {
    private final PositionalParamSpec volumes = Verb.positional("0", "1..*", "VOLUME", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "inspect", "Show volumes in detail (JSON).").addPositional(volumes);
    }

    @Override
    public int run() {
      List<Volume> out = new ArrayList<>();
      int code = 0;
      for (String name : Verb.list(volumes)) {
        try {
          out.add(
              Main.client()
                  .call("GET", "/v1/volumes/" + DaemonClient.enc(name), null, Volume.class));
        } catch (Exception e) {
          System.err.println("inferno: " + e.getMessage());
          code = 1;
        }
      }
      System.out.println(Json.pretty(out));
      return code;
    }
  }

  static final class Rm implements Verb {
    private final OptionSpec force =
        Verb.flag("no error for a volume that does not exist", "-f", "--force");
    private final PositionalParamSpec volumes = Verb.positional("0", "1..*", "VOLUME", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "rm", "Remove volumes no VM uses.")
          .addOption(force)
          .addPositional(volumes);
    }

    @Override
    public int run() {
      boolean f = force.getValue();
      String query = f ? "?force=true" : "";
      return VmCommands.each(
          Verb.list(volumes), (c, name) -> c.call("DELETE", "/v1/volumes/" + name + query, null));
    }
  }

  static final class Prune implements Verb {
    private final OptionSpec force = Verb.flag("do not ask for confirmation", "-f", "--force");
    private final OptionSpec all =
        Verb.flag("named volumes too, not only anonymous ones", "-a", "--all");

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "prune", "Remove the volumes no VM uses.")
          .addOption(all)
          .addOption(force);
    }

    @Override
    public int run() throws Exception {
      boolean a = all.getValue();
      boolean f = force.getValue();
      if (!f) {
        System.out.print(
            "WARNING! This will remove all "
                + (a ? "" : "anonymous ")
                + "local volumes not used by at least one VM.\n"
                + "Are you sure you want to continue? [y/N] ");
        System.out.flush();
        String answer =
            new BufferedReader(new InputStreamReader(System.in, Charset.defaultCharset()))
                .readLine();
        if (answer == null || !answer.strip().toLowerCase(Locale.ROOT).startsWith("y")) {
          return 0;
        }
      }
      VolumePruneResult r =
          Main.client()
              .call(
                  "POST",
                  "/v1/volumes/prune" + (a ? "?all=true" : ""),
                  null,
                  VolumePruneResult.class);
      StringBuilder sb = new StringBuilder();
      if (!r.removed().isEmpty()) {
        sb.append("Deleted Volumes:\n");
        r.removed().forEach(n -> sb.append(n).append('\n'));
        sb.append('\n');
      }
      sb.append("Total reclaimed space: ").append(Sizes.human(r.reclaimedBytes())).append('\n');
      System.out.print(sb);
      return 0;
    }
  }
}
