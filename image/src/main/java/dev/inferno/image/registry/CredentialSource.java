package dev.inferno.image.registry;

import java.util.Optional;

/** Where credentials for a registry come from; {@code domain} as in the reference (docker.io). */
@FunctionalInterface
public interface CredentialSource {
  CredentialSource NONE = domain -> Optional.empty();

  Optional<Credentials> lookup(String domain);

  /** This source first, then {@code other}. */
  default CredentialSource orElse(CredentialSource other) {
    return domain -> {
      Optional<Credentials> c = lookup(domain);
      return c.isPresent() ? c : other.lookup(domain);
    };
  }
}
