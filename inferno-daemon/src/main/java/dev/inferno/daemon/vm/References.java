package dev.inferno.daemon.vm;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Docker's reference grammar, enough to normalize what a user types ({@code alpine} → {@code
 * docker.io/library/alpine:latest}) and to reject what no registry accepts. The image module has
 * the full parser; the daemon uses this only to validate early and for its test backend.
 */
public final class References {
  private static final Pattern PATH_COMPONENT =
      Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern DIGEST =
      Pattern.compile("[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}");
  private static final Pattern DOMAIN =
      Pattern.compile(
          "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?");

  private References() {}

  /**
   * Normalizes a reference.
   *
   * @throws IllegalArgumentException "invalid reference format: …" when it is not one
   */
  public static String normalize(String ref) {
    if (ref == null || ref.isEmpty() || ref.length() > 4096) {
      throw invalid(ref, "empty or too long");
    }
    String rest = ref;
    String digest = null;
    int at = rest.indexOf('@');
    if (at >= 0) {
      digest = rest.substring(at + 1);
      rest = rest.substring(0, at);
      if (!DIGEST.matcher(digest).matches()) {
        throw invalid(ref, "bad digest");
      }
    }
    String tag = null;
    int colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      tag = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
      if (!TAG.matcher(tag).matches()) {
        throw invalid(ref, "bad tag");
      }
    }
    String domain = "docker.io";
    int slash = rest.indexOf('/');
    if (slash > 0) {
      String first = rest.substring(0, slash);
      if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
        domain = first;
        rest = rest.substring(slash + 1);
        if (!DOMAIN.matcher(domain).matches()) {
          throw invalid(ref, "bad registry host");
        }
      }
    }
    if (rest.isEmpty()) {
      throw invalid(ref, "no repository");
    }
    for (String c : rest.split("/", -1)) {
      if (!PATH_COMPONENT.matcher(c).matches()) {
        throw invalid(
            ref,
            c.equals(c.toLowerCase(Locale.ROOT))
                ? "bad repository name"
                : "repository names must be lowercase");
      }
    }
    if (domain.equals("docker.io") && !rest.contains("/")) {
      rest = "library/" + rest;
    }
    StringBuilder sb = new StringBuilder(domain).append('/').append(rest);
    if (tag != null || digest == null) {
      sb.append(':').append(tag == null ? "latest" : tag);
    }
    if (digest != null) {
      sb.append('@').append(digest);
    }
    return sb.toString();
  }

  private static IllegalArgumentException invalid(String ref, String why) {
    return new IllegalArgumentException("invalid reference format: " + ref + " (" + why + ")");
  }
}
