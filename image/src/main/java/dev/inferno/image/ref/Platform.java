package dev.inferno.image.ref;

import java.util.Locale;

/**
 * An OCI platform ({@code os/architecture[/variant]}); {@code linux/amd64} unless asked otherwise.
 */
public record Platform(String os, String architecture, String variant) {
  public static final Platform DEFAULT = new Platform("linux", "amd64", null);

  public Platform {
    if (os == null || os.isBlank() || architecture == null || architecture.isBlank()) {
      throw new IllegalArgumentException("platform needs an os and an architecture");
    }
    if (variant != null && variant.isBlank()) {
      variant = null;
    }
  }

  /**
   * Parses {@code linux/arm64/v8}; also accepts Go's aliases {@code x86_64} and {@code aarch64}.
   */
  public static Platform parse(String s) {
    String[] parts = s.trim().toLowerCase(Locale.ROOT).split("/", -1);
    if (parts.length < 2 || parts.length > 3) {
      throw new IllegalArgumentException(
          "invalid platform '" + s + "': expected os/arch[/variant], e.g. linux/amd64");
    }
    String arch =
        switch (parts[1]) {
          case "x86_64", "x86-64" -> "amd64";
          case "aarch64" -> "arm64";
          default -> parts[1];
        };
    return new Platform(parts[0], arch, parts.length == 3 ? parts[2] : null);
  }

  /** Whether an index entry's platform satisfies this requested platform. */
  public boolean accepts(String os, String architecture, String variant) {
    if (!this.os.equals(os) || !this.architecture.equals(architecture)) {
      return false;
    }
    if (this.variant == null) {
      return true;
    }
    // arm64 images often omit the (only) variant v8
    String v = variant == null && architecture.equals("arm64") ? "v8" : variant;
    return this.variant.equals(v);
  }

  @Override
  public String toString() {
    return os + "/" + architecture + (variant == null ? "" : "/" + variant);
  }
}
