package dev.inferno.image;

/** An image operation failed in a way the user can act on; the message says how. */
public class ImageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ImageException(String message) {
    super(message);
  }

  public ImageException(String message, Throwable cause) {
    super(message, cause);
  }

  /** No image matches the name or id. */
  public static final class NotFound extends ImageException {
    private static final long serialVersionUID = 1L;

    public NotFound(String message) {
      super(message);
    }
  }

  /** The image is used by a VM and was not removed. */
  public static final class InUse extends ImageException {
    private static final long serialVersionUID = 1L;

    public InUse(String message) {
      super(message);
    }
  }
}
