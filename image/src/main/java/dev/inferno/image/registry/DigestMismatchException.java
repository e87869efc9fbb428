package dev.inferno.image.registry;

/** Content did not match the digest that names it: never stored, never retried into success. */
public class DigestMismatchException extends RegistryException {
  private static final long serialVersionUID = 1L;

  public DigestMismatchException(String message) {
    super(message, 0);
  }
}
