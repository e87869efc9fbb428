package dev.inferno.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.cli.e2e.Inferno;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * The hot verbs' lean parser reads what picocli reads from the same {@link Grammar}, and leaves to
 * picocli whatever picocli rejects or answers with help; the launcher's list of hot verbs is
 * Main's; and a hot verb's run really does not load picocli.
 */
class GrammarTest {
  /** The hot verbs, as Main knows them. */
  private static List<String> hot() {
    return Stream.of(Main.COMMANDS).filter(c -> Main.leanCommand(c) != null).toList();
  }

  /** Command lines after the verb that the lean parser must take; then ones it must not. */
  private static final Map<String, List<List<String>>> PLAIN =
      Map.of(
          "ps",
          List.of(
              List.of(),
              List.of("-a"),
              List.of("-aq"),
              List.of("-qa", "--no-trunc"),
              List.of("--all", "--quiet"),
              List.of("--format", "json"),
              List.of("--format=json", "-a"),
              List.of("--socket", "/x/s.sock", "-a"),
              List.of("--socket=/x/s.sock"),
              List.of("--")),
          "images",
          List.of(List.of(), List.of("-q"), List.of("--digests", "--format", "json")),
          "inspect",
          List.of(
              List.of("a"), List.of("a", "b", "c"), List.of("--", "-a"), List.of("--", "a", "b")),
          "logs",
          List.of(
              List.of("x"),
              List.of("-f", "x"),
              List.of("-ft", "--tail", "5", "x"),
              List.of("x", "-n", "all", "--since=10m", "--until", "2026-11-28T19:00:00Z"),
              List.of("--", "-x")));

  private static final List<List<String>> ODD =
      List.of(
          List.of("--help"),
          List.of("-h"),
          List.of("-ah"),
          List.of("-a", "-a"),
          List.of("--all", "-a"),
          List.of("--format"),
          List.of("--format", "-a"),
          List.of("--format="),
          List.of("--format", "json", "--format", "table"),
          List.of("--bogus"),
          List.of("-x"),
          List.of("-"),
          List.of("x"),
          List.of("--all=true"),
          List.of("--", "x", "y"),
          List.of("x", "y", "-"),
          List.of("x", "--", "y"),
          List.of("x", "--socket", "/x/s.sock", "y"),
          List.of("-f", "x", "-t"),
          List.of("x", "-q", "y"),
          List.of("--tail"),
          List.of("-n5", "x"),
          List.of("-n=5", "x"),
          List.of("--socket"),
          List.of("-V"));

  /** What either parser found, by option name and parameter label (plus the inherited socket). */
  private static Map<String, Object> view(LeanVerb verb, Grammar.Args args, Object socket) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Grammar.Option o : verb.grammar().options()) {
      m.put(o.names().getFirst(), o.repeated() ? args.list(o) : args.value(o));
    }
    for (Grammar.Param p : verb.grammar().params()) {
      m.put(p.label(), p.many() ? args.params(p) : args.param(p));
    }
    m.put("--socket", socket);
    return m;
  }

  /** picocli's parse of VERB args..., or the exception it throws. */
  private static Object picocli(String verb, List<String> args) {
    List<String> line = new ArrayList<>(List.of(verb));
    line.addAll(args);
    CommandLine cl = Main.commandLine(verb);
    ParseResult root;
    try {
      root = cl.parseArgs(line.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      return e;
    }
    ParseResult sub = root.subcommand();
    if (sub.isUsageHelpRequested() || root.isVersionHelpRequested()) {
      return "help";
    }
    LeanVerb v = (LeanVerb) sub.commandSpec().userObject();
    return view(
        v,
        v.grammar().values(sub.commandSpec()),
        sub.matchedOptionValue("--socket", root.matchedOptionValue("--socket", null)));
  }

  private static Object lean(String verb, List<String> args) {
    LeanVerb v = Main.leanCommand(verb);
    String[] line = new String[args.size() + 1];
    line[0] = verb;
    for (int i = 0; i < args.size(); i++) {
      line[i + 1] = args.get(i);
    }
    Grammar.Args parsed = v.grammar().parse(line, 1, List.of(Main.SOCKET));
    return parsed == null ? null : view(v, parsed, parsed.value(Main.SOCKET));
  }

  @Test
  void plainLinesParseAsPicocliParsesThem() {
    assertThat(PLAIN.keySet()).containsExactlyInAnyOrderElementsOf(hot());
    PLAIN.forEach((verb, lines) -> {
      for (List<String> args : lines) {
        Object lean = lean(verb, args);
        assertThat(lean).as("%s %s", verb, args).isNotNull().isEqualTo(picocli(verb, args));
      }
    });
  }

  @Test
  void whatPicocliRejectsOrHelpsWithIsLeftToIt() {
    for (String verb : hot()) {
      for (List<String> args : ODD) {
        Object expected = picocli(verb, args);
        Object lean = lean(verb, args);
        if (expected instanceof Exception || expected.equals("help")) {
          assertThat(lean).as("%s %s: picocli says %s", verb, args, expected).isNull();
        } else if (lean != null) {
          assertThat(lean).as("%s %s", verb, args).isEqualTo(expected);
        }
      }
    }
  }

  @Test
  void theLauncherKnowsTheHotVerbs() throws Exception {
    String line =
        Files.readAllLines(Inferno.BIN).stream()
            .filter(l -> l.startsWith("hot_verbs="))
            .findFirst()
            .orElseThrow();
    String words = line.substring(line.indexOf('"') + 1, line.lastIndexOf('"'));
    assertThat(new TreeSet<>(Arrays.asList(words.split(" ")))).isEqualTo(new TreeSet<>(hot()));
  }

  @Test
  void aHotVerbDoesNotLoadPicocli(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("init.log");
    for (List<String> args : List.of(List.of("ps", "-a"), List.of("ps", "--help"))) {
      List<String> c = new ArrayList<>(List.of(Inferno.BIN.toString()));
      c.addAll(args);
      ProcessBuilder pb = new ProcessBuilder(c);
      pb.environment().put("INFERNO_SOCKET", dir.resolve("none.sock").toString());
      pb.environment().put("INFERNO_JAVA_OPTS", "-Xlog:class+init=info:file=" + log);
      Inferno.Result r = Inferno.finish(pb.start(), 120);
      String initialised = Files.readString(log);
      if (args.contains("--help")) {
        // the control: help is picocli's, so the log would show it
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(initialised).contains("'picocli/CommandLine'");
      } else {
        assertThat(r.code()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).as(r.toString()).contains("cannot reach the inferno daemon");
        // (the verifier may load a picocli exception type Main names; none is initialised)
        assertThat(initialised).contains("'dev/inferno/cli/PsCommand'").doesNotContain("picocli/");
      }
    }
  }
}
