package dev.inferno.image.registry;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** A username and password (or identity token) for one registry. */
public record Credentials(String username, String secret) {
  @Override
  public String toString() {
    return "Credentials[" + username + ", ***]";
  }

  String basicHeader() {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((username + ":" + secret).getBytes(StandardCharsets.UTF_8));
  }
}
