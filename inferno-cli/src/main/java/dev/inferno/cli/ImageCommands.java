package dev.inferno.cli;

import dev.inferno.model.ImageHistoryEntry;
import dev.inferno.model.ImageSummary;
import dev.inferno.model.PullRequest;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import dev.inferno.model.units.Sizes;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** pull, images, rmi, tag, history, load, save. */
final class ImageCommands {
  private ImageCommands() {}

  static final class Pull implements Verb {
    private final OptionSpec platform =
        Verb.option(String.class, "platform", "os/arch[/variant]", "--platform");
    private final PositionalParamSpec image = Verb.positional("0", "1", "IMAGE", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "pull", "Pull an image from a registry.")
          .addOption(platform)
          .addPositional(image);
    }

    @Override
    public int run() throws IOException {
      return pull(Main.client(), image.getValue(), platform.getValue(), System.out);
    }

    /** Pulls with progress on out; 0 on success, 1 (after printing the error) on failure. */
    static int pull(DaemonClient client, String image, String platform, PrintStream out)
        throws IOException {
      UnixHttpClient.Response r =
          client.send("POST", "/v1/images/pull", new PullRequest(image, platform));
      if (r.status() != 200) {
        throw DaemonClient.error(r);
      }
      boolean tty = System.console() != null && System.console().isTerminal();
      Progress p = new Progress(out, tty);
      try (r;
          BufferedReader in =
              new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          if (line.isBlank()) {
            continue;
          }
          dev.inferno.model.Progress m = Json.read(line, dev.inferno.model.Progress.class);
          String status = String.valueOf(m.status());
          if (status.equals("Error")) {
            throw new CliException(String.valueOf(m.error()));
          }
          if (status.equals("Done") && m.image() != null) {
            ImageSummary img = m.image();
            out.println("Digest: " + img.manifestDigest());
            out.println("Status: image is up to date for " + img.reference());
            out.println(img.reference());
            return 0;
          }
          p.update(m);
        }
      }
      throw new CliException("the daemon ended the pull without a result");
    }
  }

  /** Docker-style per-layer progress: redrawn in place on a TTY, one line per change otherwise. */
  static final class Progress {
    private final PrintStream out;
    private final boolean tty;
    private final List<String> layers = new ArrayList<>();
    private final Map<String, String> last = new LinkedHashMap<>();

    Progress(PrintStream out, boolean tty) {
      this.out = out;
      this.tty = tty;
    }

    void update(dev.inferno.model.Progress m) {
      String status = String.valueOf(m.status());
      String layer = m.id();
      String text = line(status, layer, m.current(), m.total());
      if (layer == null) {
        out.println(text);
        out.flush();
        return;
      }
      if (!tty) {
        if (!status.equals(last.put(layer, status))) {
          out.println(layer + ": " + status);
        }
        out.flush();
        return;
      }
      int idx = layers.indexOf(layer);
      if (idx < 0) {
        layers.add(layer);
        out.println(text);
      } else {
        int up = layers.size() - idx;
        out.print("\033[" + up + "A\r\033[2K" + text + "\033[" + up + "B\r");
      }
      out.flush();
    }

    static String line(String status, String id, Long current, Long total) {
      StringBuilder sb = new StringBuilder();
      if (id != null) {
        sb.append(id).append(": ");
      }
      sb.append(status);
      if (current != null && total != null && total > 0 && !status.endsWith("complete")) {
        long c = current;
        long t = total;
        int width = 50;
        int done = (int) Math.min(width, c * width / t);
        sb.append(" [")
            .repeat("=", Math.max(0, done - 1))
            .append(done > 0 && done < width ? ">" : done == width ? "=" : "")
            .repeat(" ", width - done)
            .append("] ")
            .append(Sizes.human(c))
            .append('/')
            .append(Sizes.human(t));
      }
      return sb.toString();
    }
  }

  static final class Images extends LeanVerb {
    static final Grammar.Option DIGESTS = Grammar.flag("show manifest digests", "--digests");
    static final Grammar.Option QUIET = Grammar.flag("only image ids", "-q", "--quiet");
    static final Grammar.Option FORMAT =
        Grammar.option(String.class, "format", "table (default) or json", "--format");
    static final Grammar GRAMMAR =
        new Grammar("images", "List local images.", List.of(DIGESTS, QUIET, FORMAT), List.of());

    @Override
    Grammar grammar() {
      return GRAMMAR;
    }

    @Override
    int run(Grammar.Args args) throws IOException {
      boolean digests = args.flag(DIGESTS);
      boolean quiet = args.flag(QUIET);
      String format = args.value(FORMAT) == null ? "table" : args.value(FORMAT);
      if (!format.equals("table") && !format.equals("json")) {
        throw new CliException("invalid --format " + format + ": table or json");
      }
      List<ImageSummary> images = Main.client().list("GET", "/v1/images", ImageSummary.class);
      StringBuilder sb = new StringBuilder();
      if (quiet) {
        for (ImageSummary i : images) {
          sb.append(Format.shortId(i.id())).append('\n');
        }
      } else if (format.equals("json")) {
        for (ImageSummary i : images) {
          sb.append(Json.write(i)).append('\n');
        }
      } else {
        Instant now = Instant.now();
        List<List<String>> rows = new ArrayList<>();
        for (ImageSummary i : images) {
          String ref = String.valueOf(i.reference());
          if (ref.startsWith("sha256:")) {
            ref = "<none>:<none>"; // known only by digest (e.g. loaded without a name)
          }
          int at = ref.indexOf('@');
          String noDigest = at >= 0 ? ref.substring(0, at) : ref;
          int colon = noDigest.lastIndexOf(':');
          String repo = colon > noDigest.lastIndexOf('/') ? noDigest.substring(0, colon) : noDigest;
          String tag = colon > noDigest.lastIndexOf('/') ? noDigest.substring(colon + 1) : "<none>";
          List<String> row = new ArrayList<>(List.of(repo, tag));
          if (digests) {
            row.add(String.valueOf(i.manifestDigest()));
          }
          row.add(Format.shortId(i.id()));
          row.add(i.createdAt() == null ? "N/A" : Format.ago(i.createdAt(), now));
          row.add(Sizes.human(i.sizeBytes()));
          rows.add(row);
        }
        List<String> header = new ArrayList<>(List.of("REPOSITORY", "TAG"));
        if (digests) {
          header.add("DIGEST");
        }
        header.addAll(List.of("IMAGE ID", "CREATED", "SIZE"));
        sb.append(Format.table(header, rows));
      }
      System.out.print(sb);
      return 0;
    }
  }

  static final class Rmi implements Verb {
    private final OptionSpec forceOpt =
        Verb.flag("remove even if exited VMs use it", "-f", "--force");
    private final PositionalParamSpec images = Verb.positional("0", "1..*", "IMAGE", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "rmi", "Remove images.").addOption(forceOpt).addPositional(images);
    }

    @Override
    public int run() {
      boolean force = forceOpt.getValue();
      int code = 0;
      for (String ref : Verb.list(images)) {
        try {
          ImageSummary img =
              Main.client()
                  .call(
                      "DELETE",
                      "/v1/images?ref=" + DaemonClient.enc(ref) + (force ? "&force=true" : ""),
                      null,
                      ImageSummary.class);
          // one of several names only comes off: the image, still there by id, was not deleted
          boolean stays =
              Main.client()
                      .send("GET", "/v1/images/inspect?ref=" + DaemonClient.enc(img.id()), null)
                      .status()
                  == 200;
          System.out.println("Untagged: " + img.reference());
          if (!stays) {
            System.out.println("Deleted: " + img.id());
          }
        } catch (Exception e) {
          System.err.println("inferno: " + e.getMessage());
          code = 1;
        }
      }
      return code;
    }
  }

  static final class Tag implements Verb {
    private final PositionalParamSpec source =
        Verb.positional("0", "1", "SOURCE", "the image: a name, an id or a digest");
    // optional to picocli, checked here: an unknown option is reported before a missing name
    private final PositionalParamSpec target =
        Verb.positional("1", "0..1", "TARGET", "the new name, NAME[:TAG] (no tag: latest)");

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "tag", "Name an image by one more reference.")
          .addPositional(source)
          .addPositional(target);
    }

    @Override
    public int run() throws IOException {
      if (target.getValue() == null) {
        throw CliException.badInput(
            "\"tag\" requires exactly 2 arguments: inferno tag SOURCE TARGET");
      }
      Main.client()
          .call(
              "POST",
              "/v1/images/tag?source="
                  + DaemonClient.enc(source.getValue())
                  + "&target="
                  + DaemonClient.enc(target.getValue()),
              null,
              ImageSummary.class);
      return 0; // silent on success, as docker tag
    }
  }

  static final class History implements Verb {
    /** docker history's width for CREATED BY. */
    static final int CREATED_BY_WIDTH = 45;

    private final OptionSpec noTrunc = Verb.flag("full image id and commands", "--no-trunc");
    private final OptionSpec quiet = Verb.flag("only image ids", "-q", "--quiet");
    private final PositionalParamSpec image = Verb.positional("0", "1", "IMAGE", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "history", "Show the build steps of an image.")
          .addOption(noTrunc)
          .addOption(quiet)
          .addPositional(image);
    }

    @Override
    public int run() throws IOException {
      List<ImageHistoryEntry> steps =
          Main.client()
              .list(
                  "GET",
                  "/v1/images/history?ref=" + DaemonClient.enc(image.getValue()),
                  ImageHistoryEntry.class);
      System.out.print(table(steps, noTrunc.getValue(), quiet.getValue(), Instant.now()));
      return 0;
    }

    /** docker history's table: IMAGE, CREATED, CREATED BY, SIZE, COMMENT. */
    static String table(List<ImageHistoryEntry> steps, boolean full, boolean quiet, Instant now) {
      List<List<String>> rows = new ArrayList<>();
      StringBuilder ids = new StringBuilder();
      for (ImageHistoryEntry e : steps) {
        String id = e.id() == null ? "<missing>" : full ? e.id() : Format.shortId(e.id());
        ids.append(id).append('\n');
        String by = e.createdBy().replace('\t', ' ');
        if (!full && by.length() > CREATED_BY_WIDTH) {
          by = by.substring(0, CREATED_BY_WIDTH - 1) + "…";
        }
        rows.add(
            List.of(
                id,
                e.createdAt() == null ? "N/A" : Format.ago(e.createdAt(), now),
                by,
                Sizes.human(e.sizeBytes()),
                e.comment()));
      }
      if (quiet) {
        return ids.toString();
      }
      return Format.table(List.of("IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"), rows);
    }
  }

  static final class Load implements Verb {
    private final OptionSpec inputOpt =
        Verb.option(Path.class, "input", "the tar file (default: stdin)", "-i", "--input");

    @Override
    public CommandSpec spec() {
      return Verb.command(this, "load", "Load images from a docker-save or OCI-layout tar.")
          .addOption(inputOpt);
    }

    @Override
    public int run() throws IOException {
      Path input = inputOpt.getValue();
      InputStream in = input == null ? System.in : Files.newInputStream(input);
      long length = input == null ? -1 : Files.size(input);
      UnixHttpClient.Response r;
      try (in) {
        r = Main.client().send("POST", "/v1/images/load", "application/x-tar", in, length);
      }
      if (r.status() != 200) {
        throw DaemonClient.error(r);
      }
      try (r;
          BufferedReader br =
              new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        int loaded = 0;
        for (String line = br.readLine(); line != null; line = br.readLine()) {
          if (line.isBlank()) {
            continue;
          }
          dev.inferno.model.Progress m = Json.read(line, dev.inferno.model.Progress.class);
          if ("Error".equals(m.status())) {
            throw new CliException(String.valueOf(m.error()));
          }
          if ("Done".equals(m.status()) && m.image() != null) {
            System.out.println("Loaded image: " + m.image().reference());
            loaded++;
          }
        }
        if (loaded == 0) {
          throw new CliException("the archive held no image");
        }
      }
      return 0;
    }
  }

  static final class Save implements Verb {
    private final OptionSpec outputOpt =
        Verb.option(Path.class, "file", "write to a file instead of stdout", "-o", "--output");
    private final PositionalParamSpec images = Verb.positional("0", "1..*", "IMAGE", null);

    @Override
    public CommandSpec spec() {
      return Verb.command(
              this, "save", "Save images to a tar archive (streamed to stdout by default).")
          .addOption(outputOpt)
          .addPositional(images);
    }

    @Override
    public int run() throws IOException {
      Path output = outputOpt.getValue();
      if (output == null && Terminal.stdoutIsTerminal()) {
        throw new CliException(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect");
      }
      Path dir = output == null ? null : output.toAbsolutePath().getParent();
      if (dir != null && !Files.isDirectory(dir)) {
        throw new CliException("invalid output path: directory " + dir + " does not exist");
      }
      StringBuilder path = new StringBuilder("/v1/images/save");
      char sep = '?';
      for (String ref : Verb.list(images)) {
        path.append(sep).append("ref=").append(DaemonClient.enc(ref));
        sep = '&';
      }
      UnixHttpClient.Response r = Main.client().send("GET", path.toString(), null);
      if (r.status() != 200) {
        throw DaemonClient.error(r);
      }
      try (r) {
        if (dir == null) {
          // fd 1 as it is (System.out is a PrintStream); not closed: it is our stdout
          OutputStream stdout = new FileOutputStream(FileDescriptor.out);
          copy(r.body(), stdout);
          flush(stdout);
          return 0;
        }
        // a temp file beside the target, renamed into place: a failed save leaves no partial file
        Path tmp = Files.createTempFile(dir, "." + output.getFileName() + ".", ".tmp");
        try {
          try (OutputStream out = Files.newOutputStream(tmp)) {
            copy(r.body(), out);
          }
          Files.move(
              tmp, output, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
      return 0;
    }

    /** Copies the archive, telling a daemon that cut it short from a sink that failed. */
    private static void copy(InputStream in, OutputStream out) {
      byte[] buf = new byte[1 << 16];
      while (true) {
        int n;
        try {
          n = in.read(buf);
        } catch (IOException e) {
          throw new CliException("the daemon cut the archive short: " + e.getMessage());
        }
        if (n < 0) {
          return;
        }
        try {
          out.write(buf, 0, n);
        } catch (IOException e) {
          throw new CliException("cannot write the archive: " + e.getMessage());
        }
      }
    }

    private static void flush(OutputStream out) {
      try {
        out.flush();
      } catch (IOException e) {
        throw new CliException("cannot write the archive: " + e.getMessage());
      }
    }
  }
}
