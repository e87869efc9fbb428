package dev.inferno.image.unpack;

/**
 * A layer tried something that would escape or corrupt the image root; nothing was written outside.
 */
public class LayerRejectedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public LayerRejectedException(String message) {
    super(message);
  }
}
