package dev.inferno.image.registry;

/** A manifest or index that inferno cannot use (malformed, schema 1, no matching platform). */
public class ManifestException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ManifestException(String message) {
    super(message);
  }
}
