package dev.inferno.model;

/** Body of {@code POST /v1/auth}: credentials to check against a registry and keep. */
public record AuthRequest(String server, String username, String password) {
  @Override
  public String toString() {
    return "AuthRequest[" + server + ", " + username + ", ***]";
  }
}
