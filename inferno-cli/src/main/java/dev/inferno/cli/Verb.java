package dev.inferno.cli;

import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * One {@code inferno} verb: its grammar as a picocli spec built in code, and what it does with the
 * values picocli parsed into that spec. Built in code rather than from picocli's annotations:
 * reading annotations makes the JVM generate proxy classes at run time, which the AOT cache cannot
 * hold and which cost a {@code ps} more than all the rest of its work (docs/benchmarks.md).
 */
interface Verb {
  /** The verb's name, description, options and parameters (picocli parses, validates and helps). */
  CommandSpec spec();

  /** Runs the verb once picocli has parsed its arguments into {@link #spec}; the exit code. */
  int run() throws Exception;

  static CommandSpec command(Verb verb, String name, String description) {
    CommandSpec spec = CommandSpec.wrapWithoutInspection(verb).name(name);
    spec.usageMessage().description(description);
    return spec;
  }

  /** A boolean option that takes no value. */
  static OptionSpec flag(String description, String... names) {
    return OptionSpec.builder(names)
        .type(boolean.class)
        .arity("0")
        .initialValue(false)
        .description(description)
        .build();
  }

  /** An option with one value; label is shown as {@code --name=<label>}. */
  static OptionSpec option(Class<?> type, String label, String description, String... names) {
    return OptionSpec.builder(names)
        .type(type)
        .paramLabel("<" + label + ">")
        .description(description)
        .build();
  }

  /** A repeatable option, collected in order. */
  static OptionSpec repeated(Class<?> type, String label, String description, String... names) {
    return OptionSpec.builder(names)
        .type(List.class)
        .auxiliaryTypes(type)
        .paramLabel("<" + label + ">")
        .description(description)
        .build();
  }

  /** A positional parameter: index like "0" or "1..*", arity like "1" or "0..1" or "1..*". */
  static PositionalParamSpec positional(
      String index, String arity, String label, String description) {
    boolean many = arity.endsWith("*") || index.endsWith("*");
    // built in code, picocli does not derive "required" from the arity as it does for annotations
    PositionalParamSpec.Builder b =
        PositionalParamSpec.builder()
            .index(index)
            .arity(arity)
            .required(!arity.startsWith("0"))
            .paramLabel(label);
    if (many) {
      b.type(List.class).auxiliaryTypes(String.class);
    } else {
      b.type(String.class);
    }
    if (description != null) {
      b.description(description);
    }
    return b.build();
  }

  /** The values of a repeated option or a list parameter; empty when none were given. */
  static <T> List<T> list(OptionSpec o) {
    List<T> v = o.getValue();
    return v == null ? List.of() : v;
  }

  static List<String> list(PositionalParamSpec p) {
    List<String> v = p.getValue();
    return v == null ? List.of() : v;
  }
}
