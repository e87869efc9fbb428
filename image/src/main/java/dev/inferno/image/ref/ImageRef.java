package dev.inferno.image.ref;

import java.util.regex.Pattern;

/**
 * An image reference in Docker's grammar: {@code [domain[:port]/]path[:tag][@digest]}. The one
 * parser of that grammar: the daemon validates and normalizes references with it too.
 *
 * <p>{@code domain} is the registry as the user names it ({@code docker.io} for Docker Hub); {@link
 * #apiHost()} is where the HTTP API lives ({@code registry-1.docker.io}). Without a digest the tag
 * defaults to {@code latest}.
 */
public record ImageRef(String domain, String repository, String tag, Digest digest) {
  public static final String DOCKER_HUB = "docker.io";
  private static final Pattern PATH_COMPONENT =
      Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern DOMAIN =
      Pattern.compile(
          "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*"
              + "|\\[[0-9a-fA-F:.]+\\]");

  public ImageRef {
    if (tag == null && digest == null) {
      tag = "latest";
    }
  }

  public static ImageRef parse(String s) {
    if (s == null || s.isEmpty() || s.length() > 255 + 140) {
      throw invalid(s, "empty or too long");
    }
    String rest = s;
    Digest digest = null;
    int at = rest.indexOf('@');
    if (at >= 0) {
      try {
        digest = Digest.parse(rest.substring(at + 1));
      } catch (IllegalArgumentException e) {
        throw invalid(s, e.getMessage());
      }
      rest = rest.substring(0, at);
    }
    String tag = null;
    int lastSlash = rest.lastIndexOf('/');
    int colon = rest.lastIndexOf(':');
    if (colon > lastSlash) {
      tag = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
      if (!TAG.matcher(tag).matches()) {
        throw invalid(s, "bad tag '" + tag + "'");
      }
    }
    String domain;
    String path;
    int slash = rest.indexOf('/');
    String first = slash < 0 ? "" : rest.substring(0, slash);
    if (slash >= 0
        && (first.contains(".")
            || first.contains(":")
            || first.equals("localhost")
            || !first.equals(first.toLowerCase(java.util.Locale.ROOT)))) {
      domain = first;
      path = rest.substring(slash + 1);
      String host = hostPart(domain);
      if (!DOMAIN.matcher(host).matches() || !validPort(domain)) {
        throw invalid(s, "bad registry '" + domain + "'");
      }
    } else {
      domain = DOCKER_HUB;
      path = rest;
    }
    if (domain.equals("index.docker.io") || domain.equals("registry-1.docker.io")) {
      domain = DOCKER_HUB;
    }
    if (domain.equals(DOCKER_HUB) && !path.contains("/")) {
      path = "library/" + path;
    }
    for (String component : path.split("/", -1)) {
      if (!PATH_COMPONENT.matcher(component).matches()) {
        throw invalid(
            s,
            component.isEmpty()
                ? "empty path component"
                : "bad repository name component '"
                    + component
                    + "' (lowercase letters, digits, . _ -)");
      }
    }
    if (path.length() > 255) {
      throw invalid(s, "repository name longer than 255");
    }
    return new ImageRef(domain, path, tag, digest);
  }

  private static String hostPart(String domain) {
    if (domain.startsWith("[")) {
      int end = domain.indexOf(']');
      return end < 0 ? domain : domain.substring(0, end + 1);
    }
    int c = domain.indexOf(':');
    return c < 0 ? domain : domain.substring(0, c);
  }

  private static boolean validPort(String domain) {
    String host = hostPart(domain);
    if (host.length() == domain.length()) {
      return true;
    }
    String port = domain.substring(host.length());
    return port.matches(":[0-9]{1,5}");
  }

  private static IllegalArgumentException invalid(String s, String why) {
    // Docker's own wording, which users search for
    return new IllegalArgumentException("invalid reference format: " + s + " (" + why + ")");
  }

  /** The host[:port] of the registry's HTTP API. */
  public String apiHost() {
    return domain.equals(DOCKER_HUB) ? "registry-1.docker.io" : domain;
  }

  /** The tag or digest to ask the registry for; a digest wins over a tag. */
  public String manifestReference() {
    return digest != null ? digest.toString() : tag;
  }

  public ImageRef withDigest(Digest d) {
    return new ImageRef(domain, repository, tag, d);
  }

  /** {@code domain/repo} without tag or digest. */
  public String name() {
    return domain + "/" + repository;
  }

  /** Fully qualified: {@code docker.io/library/alpine:3.20}. */
  @Override
  public String toString() {
    return name() + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
  }

  /** As Docker shows it: {@code alpine:3.20}, {@code ghcr.io/o/r:tag}. */
  public String familiar() {
    String n = name();
    if (domain.equals(DOCKER_HUB)) {
      n = repository.startsWith("library/") ? repository.substring(8) : repository;
    }
    return n + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
  }
}
