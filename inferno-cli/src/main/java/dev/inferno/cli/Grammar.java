package dev.inferno.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A hot verb's grammar as plain data: its options and positional parameters. It is the verb's one
 * description: picocli's model (help, completion, usage errors) is built from it ({@link #spec}),
 * and {@link #parse} reads a plain command line against it without loading picocli, whose model and
 * converters cost a {@code ps} more than its request (bench/cli/README.md). What parse does not
 * recognise for certain — help, an unknown or repeated option, a value that does not convert, a
 * form like {@code -t3} — it leaves to picocli, so help and usage errors come from one place.
 */
record Grammar(String name, String description, List<Option> options, List<Param> params) {

  /**
   * An option: a flag (boolean), a value, or a repeatable value; label shows as {@code <label>}.
   */
  record Option(
      Class<?> type, boolean repeated, String label, String description, List<String> names) {
    boolean flag() {
      return type == boolean.class;
    }

    OptionSpec spec() {
      String[] n = names.toArray(String[]::new);
      if (flag()) {
        return Verb.flag(description, n);
      }
      return repeated
          ? Verb.repeated(type, label, description, n)
          : Verb.option(type, label, description, n);
    }
  }

  /** A positional parameter: one (required or not) or, as the last, any number from min. */
  record Param(String label, int min, boolean many, String description) {}

  static Option flag(String description, String... names) {
    return new Option(boolean.class, false, null, description, List.of(names));
  }

  static Option option(Class<?> type, String label, String description, String... names) {
    return new Option(type, false, label, description, List.of(names));
  }

  static Option repeated(Class<?> type, String label, String description, String... names) {
    return new Option(type, true, label, description, List.of(names));
  }

  /** The parsed values, by option or parameter; either parser fills them. */
  record Args(Map<Object, Object> values) {
    boolean flag(Option o) {
      return values.get(o) == Boolean.TRUE;
    }

    @SuppressWarnings("unchecked")
    <T> T value(Option o) {
      return (T) values.get(o);
    }

    @SuppressWarnings("unchecked")
    <T> List<T> list(Option o) {
      Object v = values.get(o);
      return v == null ? List.of() : (List<T>) v;
    }

    String param(Param p) {
      return (String) values.get(p);
    }

    @SuppressWarnings("unchecked")
    List<String> params(Param p) {
      Object v = values.get(p);
      return v == null ? List.of() : (List<String>) v;
    }
  }

  /** picocli's model of this grammar for the verb (which runs on {@link #values} of it). */
  CommandSpec spec(Verb verb) {
    CommandSpec spec = Verb.command(verb, name, description);
    for (Option o : options) {
      spec.addOption(o.spec());
    }
    int index = 0;
    for (Param p : params) {
      String arity = p.min() + (p.many() ? "..*" : p.min() == 1 ? "" : "..1");
      spec.addPositional(Verb.positional(String.valueOf(index), arity, p.label(), p.description()));
      index++;
    }
    return spec;
  }

  /** What picocli parsed into a {@link #spec} of this grammar. */
  Args values(CommandSpec spec) {
    Map<Object, Object> v = new IdentityHashMap<>();
    for (Option o : options) {
      Object value = spec.findOption(o.names().getFirst()).getValue();
      v.put(o, o.flag() ? Boolean.TRUE.equals(value) : value);
    }
    for (int i = 0; i < params.size(); i++) {
      v.put(params.get(i), spec.positionalParameters().get(i).getValue());
    }
    return new Args(v);
  }

  /**
   * Parses args[from..] against this grammar plus the inherited options, as picocli would; null
   * when anything is not certain (then picocli parses it and reports what is wrong, or helps).
   */
  Args parse(String[] args, int from, List<Option> inherited) {
    Map<Object, Object> v = new IdentityHashMap<>();
    List<String> positional = new ArrayList<>();
    boolean optionsEnded = false;
    boolean listParam = !params.isEmpty() && params.getLast().many();
    boolean interrupted = false; // an option came between positionals
    for (int i = from; i < args.length; i++) {
      String a = args[i];
      if (optionsEnded || !a.startsWith("-")) {
        if (interrupted && listParam) {
          return null; // picocli does not resume a list parameter after an option
        }
        positional.add(a);
        continue;
      }
      interrupted = !positional.isEmpty();
      if (a.equals("-")) {
        return null;
      }
      if (a.equals("--")) {
        optionsEnded = true;
        continue;
      }
      String name = a;
      String value = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        name = a.substring(0, eq);
        value = a.substring(eq + 1);
      }
      Option o = find(name, inherited);
      if (o == null) {
        if (!flags(a, inherited, v)) {
          return null; // help, a mistake, or a form only picocli knows
        }
        continue;
      }
      if (o.flag()) {
        if (value != null || v.put(o, Boolean.TRUE) != null) {
          return null;
        }
        continue;
      }
      if (value == null) {
        if (i + 1 == args.length || args[i + 1].startsWith("-")) {
          return null;
        }
        value = args[++i];
      }
      Object converted = value.isEmpty() ? null : convert(o.type(), value);
      if (converted == null) {
        return null;
      }
      if (o.repeated()) {
        @SuppressWarnings("unchecked")
        List<Object> list = (List<Object>) v.computeIfAbsent(o, k -> new ArrayList<>());
        list.add(converted);
      } else if (v.put(o, converted) != null) {
        return null; // given twice: picocli says so
      }
    }
    int next = 0;
    for (Param p : params) {
      int left = positional.size() - next;
      if (left < p.min()) {
        return null;
      }
      if (p.many()) {
        v.put(p, List.copyOf(positional.subList(next, positional.size())));
        next = positional.size();
      } else if (left > 0) {
        v.put(p, positional.get(next++));
      }
    }
    if (next != positional.size()) {
      return null;
    }
    for (Option o : options) {
      if (o.flag()) {
        v.putIfAbsent(o, Boolean.FALSE);
      }
    }
    return new Args(v);
  }

  private Option find(String name, List<Option> inherited) {
    for (List<Option> list : List.of(options, inherited)) {
      for (Option o : list) {
        if (o.names().contains(name)) {
          return o;
        }
      }
    }
    return null;
  }

  /** A cluster of short flags ({@code -aq}); false unless every letter is a flag given once. */
  private boolean flags(String a, List<Option> inherited, Map<Object, Object> v) {
    if (a.startsWith("--") || a.length() < 3) {
      return false;
    }
    for (int c = 1; c < a.length(); c++) {
      Option o = find("-" + a.charAt(c), inherited);
      if (o == null || !o.flag() || v.put(o, Boolean.TRUE) != null) {
        return false;
      }
    }
    return true;
  }

  /** The types the hot verbs use, converted as picocli's converters do; null: leave it to them. */
  private static Object convert(Class<?> type, String value) {
    try {
      if (type == String.class) {
        return value;
      } else if (type == Integer.class) {
        return Integer.valueOf(value);
      } else if (type == Path.class) {
        return Path.of(value);
      }
    } catch (RuntimeException e) {
      return null;
    }
    return null;
  }
}
