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

/** {@code inferno logs}: history, then with -f everything new until the VM exits. */
final class LogsCommand extends LeanVerb {
  static final DateTimeFormatter RFC3339_NANO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.nnnnnnnnn'Z'").withZone(ZoneOffset.UTC);

  static final Grammar.Option FOLLOW = Grammar.flag("follow until the VM exits", "-f", "--follow");
  static final Grammar.Option TAIL =
      Grammar.option(String.class, "tail", "only the last N lines (records)", "-n", "--tail");
  static final Grammar.Option SINCE =
      Grammar.option(
          String.class,
          "since",
          "from this time: RFC 3339, Unix seconds, or a duration like 10m",
          "--since");
  static final Grammar.Option UNTIL =
      Grammar.option(String.class, "until", "before this time (same forms as --since)", "--until");
  static final Grammar.Option TIMESTAMPS =
      Grammar.flag("prefix each line with its time", "-t", "--timestamps");
  static final Grammar.Param VM = new Grammar.Param("VM", 1, false, null);
  static final Grammar GRAMMAR =
      new Grammar(
          "logs",
          "Show a VM's output.",
          List.of(FOLLOW, TAIL, SINCE, UNTIL, TIMESTAMPS),
          List.of(VM));

  @Override
  Grammar grammar() {
    return GRAMMAR;
  }

  @Override
  int run(Grammar.Args args) throws IOException {
    boolean follow = args.flag(FOLLOW);
    String tail = args.value(TAIL);
    String since = args.value(SINCE);
    String until = args.value(UNTIL);
    boolean timestamps = args.flag(TIMESTAMPS);
    String vm = args.param(VM);
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
