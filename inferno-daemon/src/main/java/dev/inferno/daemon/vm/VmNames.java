package dev.inferno.daemon.vm;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/** VM names: validated like Docker's, generated like Docker's (adjective_scientist). */
public final class VmNames {
  /**
   * Docker's name characters: the first of the class on the left, then one or more of the right.
   */
  public static final String CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]";

  private static final Pattern VALID = Pattern.compile(CHARS + "+");
  private static final int MAX = 128;

  private static final List<String> LEFT =
      List.of(
          "admiring",
          "bold",
          "brave",
          "busy",
          "clever",
          "cool",
          "dazzling",
          "eager",
          "elated",
          "epic",
          "fervent",
          "focused",
          "gallant",
          "gifted",
          "happy",
          "hopeful",
          "jolly",
          "keen",
          "kind",
          "lucid",
          "modest",
          "nifty",
          "optimistic",
          "peaceful",
          "quirky",
          "relaxed",
          "serene",
          "sharp",
          "stoic",
          "sweet",
          "tender",
          "vibrant",
          "wizardly",
          "zealous");
  private static final List<String> RIGHT =
      List.of(
          "babbage",
          "bohr",
          "curie",
          "darwin",
          "dijkstra",
          "einstein",
          "euler",
          "fermi",
          "feynman",
          "gauss",
          "hamilton",
          "hopper",
          "hypatia",
          "kepler",
          "knuth",
          "lamport",
          "lovelace",
          "mccarthy",
          "meitner",
          "newton",
          "noether",
          "pascal",
          "ritchie",
          "shannon",
          "thompson",
          "torvalds",
          "turing",
          "wozniak");

  private VmNames() {}

  /** Null when valid, else the reason for the user. */
  public static String problem(String name) {
    if (name.length() > MAX) {
      return "invalid VM name \"" + name.substring(0, 20) + "…\": longer than " + MAX;
    }
    if (!wellFormed(name)) {
      return "invalid VM name \""
          + name
          + "\": only "
          + CHARS
          + "+ are allowed (at least two characters)";
    }
    return null;
  }

  /** Whether the name has Docker's form ({@link #CHARS}), its length aside. */
  public static boolean wellFormed(String name) {
    return VALID.matcher(name).matches();
  }

  /** A random name; after a few collisions a numeric suffix is added. */
  public static String generate(int attempt) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    String n = LEFT.get(r.nextInt(LEFT.size())) + "_" + RIGHT.get(r.nextInt(RIGHT.size()));
    return attempt < 3 ? n : n + r.nextInt(100);
  }
}
