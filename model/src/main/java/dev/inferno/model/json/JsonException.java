package dev.inferno.model.json;

/** Input that is not the JSON we expected; the message says where. */
public final class JsonException extends RuntimeException {
  public JsonException(String message) {
    super(message);
  }
}
