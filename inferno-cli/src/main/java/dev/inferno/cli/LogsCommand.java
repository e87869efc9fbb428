package dev.inferno.cli;

import dev.inferno.model.ApiError;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import dev.inferno.model.stream.Frame;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code inferno logs}: history, then with -f everything new until the VM exits. */
final class LogsCommand implements Verb {
  static final DateTimeFormatter RFC3339_NANO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.nnnnnnnnn'Z'").withZone(ZoneOffset.UTC);

  private final OptionSpec followOpt = Verb.flag("follow until the VM exits", "-f", "--follow");
  private final OptionSpec tailOpt =
      Verb.option(String.class, "tail", "only the last N lines (records)", "-n", "--tail");
  private final OptionSpec sinceOpt =
      Verb.option(
          String.class,
          "since",
          "from this time: RFC 3339, Unix seconds, or a duration like 10m",
          "--since");
  private final OptionSpec untilOpt =
      Verb.option(String.class, "until", "before this time (same forms as --since)", "--until");
  private final OptionSpec timestampsOpt =
      Verb.flag("prefix each line with its time", "-t", "--timestamps");
  private final PositionalParamSpec vmParam = Verb.positional("0", "1", "VM", null);

  @Override
  public CommandSpec spec() {
    return Verb.command(this, "logs", "Show a VM's output.")
        .addOption(followOpt)
        .addOption(tailOpt)
        .addOption(sinceOpt)
        .addOption(untilOpt)
        .addOption(timestampsOpt)
        .addPositional(vmParam);
  }

  @Override
  public int run() throws IOException {
    boolean follow = followOpt.getValue();
    String tail = tailOpt.getValue();
    String since = sinceOpt.getValue();
    String until = untilOpt.getValue();
    boolean timestamps = timestampsOpt.getValue();
    String vm = vmParam.getValue();
    List<String> q = new ArrayList<>();
    if (follow) {
      q.add("follow=true");
    }
    if (tail != null && !tail.equals("all")) {
      if (!tail.matches("\\d+")) {
        throw new CliException("invalid --tail " + tail + ": a number or all");
      }
      q.add("tail=" + tail);
    }
    Instant now = Instant.now();
    if (since != null) {
      q.add("since=" + TimeArgs.query(TimeArgs.parse(since, now)));
    }
    if (until != null) {
      q.add("until=" + TimeArgs.query(TimeArgs.parse(until, now)));
    }
    String path =
        "/v1/vms/"
            + DaemonClient.enc(vm)
            + "/logs"
            + (q.isEmpty() ? "" : "?" + String.join("&", q));
    UnixHttpClient.Response r = Main.client().send("GET", path, null);
    if (r.status() != 200) {
      throw DaemonClient.error(r);
    }
    try (r) {
      copy(r.body(), System.out, System.err, timestamps);
    }
    return 0;
  }

  /** Writes frames' payloads to out/err; returns at the end of the stream. */
  static void copy(InputStream in, PrintStream out, PrintStream err, boolean timestamps)
      throws IOException {
    boolean[] lineStart = {true, true};
    for (Frame f = Frame.readFrom(in); f != null; f = Frame.readFrom(in)) {
      switch (f.kind()) {
        case STDOUT, STDERR -> {
          int s = f.kind() == Frame.Kind.STDOUT ? 0 : 1;
          PrintStream p = s == 0 ? out : err;
          p.write(timestamps ? stamp(f, lineStart, s) : f.payload());
          p.flush();
        }
        case ERROR ->
            throw new CliException(String.valueOf(Json.read(f.text(), ApiError.class).message()));
        default -> {}
      }
    }
  }

  /** Prefixes every line that starts in this frame with the frame's time. */
  private static byte[] stamp(Frame f, boolean[] lineStart, int s) {
    byte[] prefix = (RFC3339_NANO.format(f.time()) + " ").getBytes(StandardCharsets.US_ASCII);
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream(f.payload().length + 40);
    for (byte c : f.payload()) {
      if (lineStart[s]) {
        b.writeBytes(prefix);
        lineStart[s] = false;
      }
      b.write(c);
      if (c == '\n') {
        lineStart[s] = true;
      }
    }
    return b.toByteArray();
  }
}
