package dev.inferno.model;

import dev.inferno.model.units.Sizes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The one owner of Docker's mount grammars: {@code -v/--volume}, {@code --mount}, {@code --tmpfs}
 * (the CLI's flags; the Docker API's Binds, Mounts and Tmpfs take the same strings), the volume
 * name grammar, and the checks a list of {@link Mount}s must pass whoever built it. Every method
 * throws {@link IllegalArgumentException} with a message for the user.
 */
public final class MountGrammar {
  /** Docker's local volume names: at least two characters. */
  private static final Pattern VOLUME_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]+");

  /** What the daemon answers to a bind mount: a VM has no way to see a host directory. */
  public static final String NO_BIND =
      "a VM cannot share a host directory (no virtio-fs on Firecracker): use a named volume"
          + " (-v NAME:/path) and `inferno cp` to move files in";

  private MountGrammar() {}

  /** Why a volume name is invalid, or null when it is valid. */
  public static String volumeNameProblem(String name) {
    if (name == null || !VOLUME_NAME.matcher(name).matches()) {
      return "invalid volume name \""
          + name
          + "\": 2 or more of [a-zA-Z0-9_.-], starting with a letter or digit";
    }
    return null;
  }

  /**
   * {@code -v}: {@code /path} (a new anonymous volume), {@code NAME:/path[:OPTS]} (a named volume,
   * created on first use), {@code /host/path:/path[:OPTS]} (a bind: parsed, refused by {@link
   * #check}); OPTS is {@code ro} or {@code rw}.
   */
  public static Mount volume(String spec) {
    String[] parts = spec.split(":", -1);
    String source = null;
    String target;
    String opts = null;
    switch (parts.length) {
      case 1 -> target = parts[0];
      case 2 -> {
        // "/data:ro" is an anonymous read-only volume, "name:/data" a named one
        if (parts[1].startsWith("/")) {
          source = parts[0];
          target = parts[1];
        } else {
          target = parts[0];
          opts = parts[1];
        }
      }
      case 3 -> {
        source = parts[0];
        target = parts[1];
        opts = parts[2];
      }
      default ->
          throw new IllegalArgumentException(
              "invalid volume \"" + spec + "\": expected [NAME:]/path[:ro|rw]");
    }
    if (source != null && source.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid volume \"" + spec + "\": empty source: expected NAME:/path or /path");
    }
    boolean readOnly = false;
    if (opts != null) {
      for (String o : opts.split(",", -1)) {
        switch (o) {
          case "ro" -> readOnly = true;
          case "rw" -> readOnly = false;
          default ->
              throw new IllegalArgumentException(
                  "invalid volume \""
                      + spec
                      + "\": option \""
                      + o
                      + "\" is not supported: ro or rw");
        }
      }
    }
    if (source != null && (source.startsWith("/") || source.startsWith("."))) {
      return new Mount("bind", source, target, readOnly, null, null);
    }
    if (source != null) {
      String p = volumeNameProblem(source);
      if (p != null) {
        throw new IllegalArgumentException(
            p
                + " (a host directory needs an absolute path, and cannot be shared with a VM anyway)");
      }
    }
    return Mount.volume(source, target, readOnly);
  }

  /**
   * {@code --mount}: Docker's comma-separated {@code key=value} list: {@code type}
   * (volume|tmpfs|bind, default volume), {@code source|src}, {@code target|destination|dst}, {@code
   * readonly|ro[=true|false|1|0]}, {@code tmpfs-size}, {@code tmpfs-mode} (octal).
   */
  public static Mount mount(String spec) {
    String type = "volume";
    String source = null;
    String target = null;
    boolean readOnly = false;
    Long size = null;
    Integer mode = null;
    Set<String> seen = new HashSet<>();
    for (String field : spec.split(",", -1)) {
      int eq = field.indexOf('=');
      String key = (eq < 0 ? field : field.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
      String value = eq < 0 ? null : field.substring(eq + 1).trim();
      if (key.isEmpty()) {
        throw new IllegalArgumentException(
            "invalid mount \"" + spec + "\": an empty field: expected key=value,…");
      }
      String canonical =
          switch (key) {
            case "src" -> "source";
            case "destination", "dst" -> "target";
            case "ro" -> "readonly";
            default -> key;
          };
      if (!seen.add(canonical)) {
        throw new IllegalArgumentException(
            "invalid mount \"" + spec + "\": " + canonical + " given twice");
      }
      if (value == null && !canonical.equals("readonly")) {
        throw new IllegalArgumentException(
            "invalid mount \"" + spec + "\": " + key + " needs a value (" + key + "=…)");
      }
      switch (canonical) {
        case "type" -> type = value;
        case "source" -> source = value;
        case "target" -> target = value;
        case "readonly" -> readOnly = bool(spec, key, value);
        case "tmpfs-size" -> size = size(spec, value);
        case "tmpfs-mode" -> mode = mode(spec, value);
        default ->
            throw new IllegalArgumentException(
                "invalid mount \""
                    + spec
                    + "\": unknown key \""
                    + key
                    + "\": type, source, target, readonly, tmpfs-size or tmpfs-mode");
      }
    }
    if (target == null || target.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid mount \"" + spec + "\": no target: add target=/path");
    }
    switch (type) {
      case "volume" -> {
        if (size != null || mode != null) {
          throw new IllegalArgumentException(
              "invalid mount \"" + spec + "\": tmpfs-size and tmpfs-mode need type=tmpfs");
        }
        if (source != null && !source.isEmpty()) {
          String p = volumeNameProblem(source);
          if (p != null) {
            throw new IllegalArgumentException("invalid mount \"" + spec + "\": " + p);
          }
        }
        return Mount.volume(source == null || source.isEmpty() ? null : source, target, readOnly);
      }
      case "tmpfs" -> {
        if (source != null) {
          throw new IllegalArgumentException(
              "invalid mount \"" + spec + "\": a tmpfs has no source");
        }
        if (readOnly) {
          throw new IllegalArgumentException(
              "invalid mount \"" + spec + "\": a read-only tmpfs would stay empty: drop readonly");
        }
        return Mount.tmpfs(target, size, mode);
      }
      case "bind" -> {
        if (source == null || source.isEmpty()) {
          throw new IllegalArgumentException(
              "invalid mount \"" + spec + "\": a bind needs source=/host/path");
        }
        return new Mount("bind", source, target, readOnly, null, null);
      }
      default ->
          throw new IllegalArgumentException(
              "invalid mount \"" + spec + "\": type \"" + type + "\": volume, tmpfs or bind");
    }
  }

  /**
   * {@code --tmpfs PATH[:OPTS]}: OPTS comma-separated, {@code size=64m} and {@code mode=1777}
   * (octal); {@code rw}, {@code nosuid} and {@code nodev} are what the guest does anyway.
   */
  public static Mount tmpfs(String spec) {
    int colon = spec.indexOf(':');
    String target = colon < 0 ? spec : spec.substring(0, colon);
    Long size = null;
    Integer mode = null;
    if (colon >= 0) {
      for (String o : spec.substring(colon + 1).split(",", -1)) {
        if (o.startsWith("size=")) {
          size = size(spec, o.substring(5));
        } else if (o.startsWith("mode=")) {
          mode = mode(spec, o.substring(5));
        } else if (!Set.of("rw", "nosuid", "nodev").contains(o)) {
          throw new IllegalArgumentException(
              "invalid tmpfs \""
                  + spec
                  + "\": option \""
                  + o
                  + "\" is not supported: size=SIZE, mode=OCTAL");
        }
      }
    }
    if (target.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid tmpfs \"" + spec + "\": expected /path[:size=64m,mode=1777]");
    }
    return Mount.tmpfs(target, size, mode);
  }

  /**
   * Checks a VM's mounts, however they were built (flags or API): known types, absolute targets
   * other than {@code /} without {@code .} or {@code ..} parts, no target twice, volume names
   * valid, tmpfs limits in range; a bind is refused with {@link #NO_BIND}.
   */
  public static void check(List<Mount> mounts) {
    if (mounts == null) {
      return;
    }
    Set<String> targets = new HashSet<>();
    for (Mount m : mounts) {
      if (m == null || m.type() == null) {
        throw new IllegalArgumentException("invalid mount " + m + ": type is required");
      }
      String t = m.target();
      if (t == null || !t.startsWith("/")) {
        throw new IllegalArgumentException(
            "invalid mount target \"" + t + "\": must be an absolute path in the VM");
      }
      String norm = normalize(t);
      if (norm.equals("/")) {
        throw new IllegalArgumentException(
            "invalid mount target \"" + t + "\": cannot mount over the root (see --read-only)");
      }
      if (!targets.add(norm)) {
        throw new IllegalArgumentException(
            "duplicate mount target " + norm + ": each path in the VM takes one mount");
      }
      switch (m.type()) {
        case "volume" -> {
          if (m.source() != null && !m.source().isEmpty()) {
            String p = volumeNameProblem(m.source());
            if (p != null) {
              throw new IllegalArgumentException(p);
            }
          }
          if (m.tmpfsSizeBytes() != null || m.tmpfsMode() != null) {
            throw new IllegalArgumentException(
                "invalid mount at " + norm + ": tmpfs size and mode are for a tmpfs");
          }
        }
        case "tmpfs" -> {
          if (m.source() != null && !m.source().isEmpty()) {
            throw new IllegalArgumentException("invalid tmpfs at " + norm + ": it has no source");
          }
          if (m.tmpfsSizeBytes() != null && m.tmpfsSizeBytes() < 0) {
            throw new IllegalArgumentException(
                "invalid tmpfs size at " + norm + ": 0 or more bytes");
          }
          if (m.tmpfsMode() != null && (m.tmpfsMode() < 0 || m.tmpfsMode() > 07777)) {
            throw new IllegalArgumentException(
                "invalid tmpfs mode at " + norm + ": octal 0 to 7777");
          }
        }
        case "bind" -> throw new IllegalArgumentException(NO_BIND);
        default ->
            throw new IllegalArgumentException(
                "invalid mount type \"" + m.type() + "\": volume or tmpfs");
      }
    }
  }

  /**
   * A target's canonical spelling: no repeated or trailing slash; {@code .} and {@code ..} parts
   * refused (a path in the VM is resolved there, not here).
   */
  public static String normalize(String target) {
    List<String> parts = new ArrayList<>();
    for (String p : target.split("/")) {
      if (p.isEmpty()) {
        continue;
      }
      if (p.equals(".") || p.equals("..")) {
        throw new IllegalArgumentException(
            "invalid mount target \"" + target + "\": no . or .. parts");
      }
      parts.add(p);
    }
    return "/" + String.join("/", parts);
  }

  private static boolean bool(String spec, String key, String value) {
    if (value == null) {
      return true;
    }
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true", "1" -> true;
      case "false", "0" -> false;
      default ->
          throw new IllegalArgumentException(
              "invalid mount \"" + spec + "\": " + key + "=" + value + ": true or false");
    };
  }

  private static long size(String spec, String value) {
    try {
      return Sizes.parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid tmpfs size in \"" + spec + "\": " + value, e);
    }
  }

  private static int mode(String spec, String value) {
    try {
      int m = Integer.parseInt(value, 8);
      if (m < 0 || m > 07777) {
        throw new NumberFormatException();
      }
      return m;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "invalid tmpfs mode in \"" + spec + "\": " + value + ": octal, 0 to 7777", e);
    }
  }
}
