package dev.inferno.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.cli.e2e.Inferno;
import dev.inferno.daemon.DaemonMain;
import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every registered verb (Main.COMMANDS, so a new one is covered without editing this test) answers
 * {@code inferno VERB --help}, {@code -h} and {@code inferno help VERB} with its usage and every
 * option, exit 0; a wrong argument gets one error line, a hint that is true, and 125. No daemon is
 * needed. The cases run {@link Main#run} in this JVM (a JVM per case cost minutes of CI); a handful
 * run the real bin/inferno too, one per branch of the launcher, and must answer byte for byte as
 * the in-process run does, which keeps the launcher covered and the in-process harness honest.
 */
class HelpTest {
  static Stream<String> verbs() {
    return Stream.of(Main.COMMANDS);
  }

  /** The verb's options as its parser knows them (server/init: the daemon's own picocli model). */
  private static List<OptionSpec> options(String verb) {
    CommandLine cl =
        verb.equals("server") || verb.equals("init")
            ? new CommandLine(DaemonMain.class).getSubcommands().get(verb)
            : Main.commandLine(verb).getSubcommands().get(verb);
    return cl.getCommandSpec().options();
  }

  /** Runs the real bin/inferno (a new JVM): only for the launcher's own cases. */
  private static Inferno.Result bin(String... args) throws Exception {
    List<String> c = new ArrayList<>(List.of(Inferno.BIN.toString()));
    c.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(c);
    pb.environment().put("INFERNO_SOCKET", "/nonexistent/inferno.sock");
    return Inferno.finish(pb.start(), 60);
  }

  /**
   * Runs {@code inferno args…} in this JVM as {@link Main#main} does (same writers, same exit
   * code), with stdout and stderr captured. System.out/err are swapped too: {@code server}/{@code
   * init} print through the daemon's own picocli, which writes to them. Synchronized: they are
   * global.
   */
  private static synchronized Inferno.Result cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    Charset cs = Charset.defaultCharset();
    try (PrintStream o = new PrintStream(out, true, cs);
        PrintStream e = new PrintStream(err, true, cs)) {
      System.setOut(o);
      System.setErr(e);
      PrintWriter ow = new PrintWriter(new OutputStreamWriter(o, cs), true);
      PrintWriter ew = new PrintWriter(new OutputStreamWriter(e, cs), true);
      int code = Main.run(args, ow, ew);
      ow.flush();
      ew.flush();
      return new Inferno.Result(code, out.toString(cs), err.toString(cs));
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
  }

  /**
   * One command line per branch of bin/inferno: the verbs cache (top-level help, a verb's help, an
   * unknown verb), the hot verbs' cache (a bad option, which falls back to picocli) and the
   * daemon's classpath (server).
   */
  static Stream<List<String>> launcherCases() {
    return Stream.of(
        List.of("--help"),
        List.of("run", "--help"),
        List.of("runx"),
        List.of("ps", "--no-such-option", "x"),
        List.of("server", "--help"));
  }

  @ParameterizedTest
  @MethodSource("launcherCases")
  void theLauncherAnswersAsMainDoes(List<String> args) throws Exception {
    String[] a = args.toArray(String[]::new);
    Inferno.Result real = bin(a);
    assertThat(real).as(String.join(" ", args)).isEqualTo(cli(a));
    if (args.contains("--help")) {
      assertThat(real.code()).as(real.toString()).isZero();
      assertThat(real.err()).as(real.toString()).isEmpty();
      String verb = args.size() > 1 ? " " + args.get(0) : "";
      assertThat(real.out()).as(real.toString()).startsWith("Usage: inferno" + verb);
    } else {
      assertThat(real.code()).as(real.toString()).isEqualTo(125);
      assertThat(real.out()).as(real.toString()).isEmpty();
      assertThat(real.err().lines().toList()).as(real.toString()).hasSize(2);
      assertThat(real.err()).as(real.toString()).startsWith("inferno: ").contains("See 'inferno");
    }
  }

  @ParameterizedTest
  @MethodSource("verbs")
  void everyVerbAnswersHelp(String verb) throws Exception {
    for (String[] args :
        List.of(
            new String[] {verb, "--help"},
            new String[] {verb, "-h"},
            new String[] {"help", verb})) {
      Inferno.Result r = cli(args);
      assertThat(r.code()).as(String.join(" ", args) + "\n" + r).isZero();
      assertThat(r.err()).as(r.toString()).isEmpty();
      assertThat(r.out()).as(r.toString()).startsWith("Usage: inferno " + verb);
      List<OptionSpec> options = options(verb);
      assertThat(options).extracting(OptionSpec::longestName).contains("--help");
      for (OptionSpec o : options) {
        for (String name : o.names()) {
          assertThat(r.out()).as(String.join(" ", args) + " lists " + name).contains(name);
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("verbs")
  void aWrongArgumentIsOneLineATrueHintAnd125(String verb) throws Exception {
    // "x": verbs that need an argument would otherwise report that one first
    Inferno.Result r = cli(verb, "--no-such-option", "x");
    assertThat(r.code()).as(r.toString()).isEqualTo(125);
    assertThat(r.out()).isEmpty();
    List<String> lines = r.err().lines().toList();
    assertThat(lines).as(r.toString()).hasSize(2);
    assertThat(lines.get(0)).startsWith("inferno: Unknown option").contains("'--no-such-option'");
    assertThat(lines.get(1)).isEqualTo("See 'inferno " + verb + " --help'.");
    // and the hint is true
    assertThat(cli(verb, "--help").code()).isZero();
  }

  static Stream<String> verbsWithARequiredParameter() {
    return verbs()
        .filter(v -> !v.equals("server") && !v.equals("init"))
        .filter(v ->
            Main.commandLine(v)
                .getSubcommands()
                .get(v)
                .getCommandSpec()
                .positionalParameters()
                .stream()
                .anyMatch(p -> p.arity().min() > 0));
  }

  @ParameterizedTest
  @MethodSource("verbsWithARequiredParameter")
  void aMissingArgumentIsNamedWithATrueHintAnd125(String verb) throws Exception {
    Inferno.Result r = cli(verb);
    assertThat(r.code()).as(r.toString()).isEqualTo(125);
    assertThat(r.out()).as(r.toString()).isEmpty();
    assertThat(r.err().lines().toList())
        .as(r.toString())
        .hasSize(2)
        .first()
        .asString()
        .startsWith("inferno: Missing required parameter");
    assertThat(r.err()).endsWith("See 'inferno " + verb + " --help'.\n");
  }

  @Test
  void theVerbsThatNeedAnArgumentAreKnown() {
    // the filter above must not be empty by accident: these verbs cannot do anything without one
    assertThat(verbsWithARequiredParameter()).contains("run", "logs", "inspect", "rm", "pull");
  }

  @ParameterizedTest
  @ValueSource(strings = {"create", "ls", "inspect", "rm", "prune"})
  void everyVolumeVerbAnswersHelpAndRefusesAWrongOption(String sub) throws Exception {
    Inferno.Result r = cli("volume", sub, "--help");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).as(r.toString()).startsWith("Usage: inferno volume " + sub);
    var spec = Main.commandLine("volume").getSubcommands().get("volume").getSubcommands().get(sub);
    for (OptionSpec o : spec.getCommandSpec().options()) {
      for (String name : o.names()) {
        assertThat(r.out()).as("volume " + sub + " lists " + name).contains(name);
      }
    }
    r = cli("volume", sub, "--no-such-option");
    assertThat(r.code()).as(r.toString()).isEqualTo(125);
    assertThat(r.err()).endsWith("See 'inferno volume " + sub + " --help'.\n");
    assertThat(cli("help", "volume").out()).contains("  " + sub + " ");
  }

  @Test
  void anUnknownVerbPointsAtTheTopLevelHelp() throws Exception {
    Inferno.Result r = cli("runx");
    assertThat(r.code()).as(r.toString()).isEqualTo(125);
    assertThat(r.err().lines().toList())
        .as(r.toString())
        .containsExactly("inferno: Unmatched argument at index 0: 'runx'", "See 'inferno --help'.");
    String usage = cli("--help").out();
    for (String verb : Main.COMMANDS) {
      assertThat(usage).contains("  " + verb + " ");
    }
  }
}
