package dev.inferno.cli;

import picocli.CommandLine.Model.CommandSpec;

/**
 * A hot verb: its grammar is data ({@link Grammar}), so {@link Main} runs a plain command line of
 * it without loading picocli; help, completion and usage errors go through picocli's model of the
 * same grammar. Either way the verb runs on the {@link Grammar.Args} its grammar parsed.
 */
abstract class LeanVerb implements Verb {
  private CommandSpec spec;

  abstract Grammar grammar();

  abstract int run(Grammar.Args args) throws Exception;

  @Override
  public final CommandSpec spec() {
    spec = grammar().spec(this);
    return spec;
  }

  /** Run by picocli after it parsed into {@link #spec}. */
  @Override
  public final int run() throws Exception {
    return run(grammar().values(spec));
  }
}
