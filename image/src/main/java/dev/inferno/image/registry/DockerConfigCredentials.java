package dev.inferno.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Credentials from a Docker client config ({@code ~/.docker/config.json}): inline {@code auths},
 * and {@code credHelpers}/{@code credsStore} through {@code docker-credential-<name> get}. The same
 * file format serves inferno's own {@code inferno login} store.
 */
public final class DockerConfigCredentials implements CredentialSource {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;
  private final Path helperDir;

  public DockerConfigCredentials(Path file) {
    this(file, null);
  }

  /**
   * @param helperDir where {@code docker-credential-*} programs live, or null to search PATH
   */
  public DockerConfigCredentials(Path file, Path helperDir) {
    this.file = file;
    this.helperDir = helperDir;
  }

  /** {@code $DOCKER_CONFIG/config.json} or {@code ~/.docker/config.json}. */
  public static DockerConfigCredentials forCurrentUser() {
    String dir = System.getenv("DOCKER_CONFIG");
    Path base = dir != null ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".docker");
    return new DockerConfigCredentials(base.resolve("config.json"));
  }

  @Override
  public Optional<Credentials> lookup(String domain) {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new RegistryException("cannot read " + file + ": " + e.getMessage(), e);
    }
    List<String> keys = keysFor(domain);
    for (String k : keys) {
      String helper = root.path("credHelpers").path(k).asText(null);
      if (helper != null) {
        return helper(helper, k);
      }
    }
    for (String k : keys) {
      JsonNode a = root.path("auths").path(k);
      if (a.isObject()) {
        Optional<Credentials> c = inline(a);
        if (c.isPresent()) {
          return c;
        }
      }
    }
    String store = root.path("credsStore").asText(null);
    if (store != null && !store.isEmpty()) {
      for (String k : keys) {
        Optional<Credentials> c = helper(store, k);
        if (c.isPresent()) {
          return c;
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Stores credentials for {@code domain} in this file's {@code auths} (what {@code inferno login}
   * does), keeping other entries; the file is written 0600 through a temp file and rename.
   */
  public synchronized void store(String domain, Credentials c) {
    try {
      com.fasterxml.jackson.databind.node.ObjectNode root =
          Files.isRegularFile(file)
              ? (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(file.toFile())
              : JSON.createObjectNode();
      com.fasterxml.jackson.databind.node.ObjectNode auths =
          root.path("auths").isObject()
              ? (com.fasterxml.jackson.databind.node.ObjectNode) root.get("auths")
              : root.putObject("auths");
      auths
          .putObject(domain)
          .put(
              "auth",
              Base64.getEncoder()
                  .encodeToString(
                      (c.username() + ":" + c.secret()).getBytes(StandardCharsets.UTF_8)));
      write(root);
    } catch (IOException e) {
      throw new RegistryException("cannot store credentials in " + file + ": " + e.getMessage(), e);
    }
  }

  /** Forgets the credentials for {@code domain}; true if there were any. */
  public synchronized boolean erase(String domain) {
    try {
      if (!Files.isRegularFile(file)) {
        return false;
      }
      JsonNode root = JSON.readTree(file.toFile());
      if (!(root.path("auths") instanceof com.fasterxml.jackson.databind.node.ObjectNode auths)
          || auths.remove(domain) == null) {
        return false;
      }
      write(root);
      return true;
    } catch (IOException e) {
      throw new RegistryException("cannot update " + file + ": " + e.getMessage(), e);
    }
  }

  private void write(JsonNode root) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp =
        Files.createTempFile(
            dir,
            ".config",
            ".tmp",
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    try {
      Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
      Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static List<String> keysFor(String domain) {
    List<String> keys = new ArrayList<>();
    if (domain.equals("docker.io")) {
      keys.add("https://index.docker.io/v1/");
      keys.add("index.docker.io");
      keys.add("registry-1.docker.io");
    }
    keys.add(domain);
    keys.add("https://" + domain);
    keys.add("http://" + domain);
    return keys;
  }

  private static Optional<Credentials> inline(JsonNode a) {
    String auth = a.path("auth").asText("");
    if (!auth.isEmpty()) {
      String decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      if (colon > 0) {
        return Optional.of(
            new Credentials(decoded.substring(0, colon), decoded.substring(colon + 1)));
      }
    }
    if (a.hasNonNull("identitytoken")) {
      return Optional.of(new Credentials("<token>", a.get("identitytoken").asText()));
    }
    if (a.hasNonNull("username") && a.hasNonNull("password")) {
      return Optional.of(new Credentials(a.get("username").asText(), a.get("password").asText()));
    }
    return Optional.empty();
  }

  private Optional<Credentials> helper(String name, String server) {
    if (!name.matches("[A-Za-z0-9._-]+")) {
      throw new RegistryException("invalid credential helper name '" + name + "'", 0);
    }
    String program =
        helperDir == null
            ? "docker-credential-" + name
            : helperDir.resolve("docker-credential-" + name).toString();
    try {
      Process p =
          new ProcessBuilder(program, "get").redirectError(ProcessBuilder.Redirect.DISCARD).start();
      p.getOutputStream().write(server.getBytes(StandardCharsets.UTF_8));
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readNBytes(1 << 20);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new RegistryException(program + " get did not answer within 30 s", 0);
      }
      if (p.exitValue() != 0) {
        return Optional.empty(); // "credentials not found in native keychain"
      }
      JsonNode n = JSON.readTree(out);
      String user = n.path("Username").asText("");
      String secret = n.path("Secret").asText("");
      return secret.isEmpty() ? Optional.empty() : Optional.of(new Credentials(user, secret));
    } catch (IOException e) {
      throw new RegistryException(
          "credential helper " + program + " failed: " + e.getMessage() + " (is it on PATH?)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException("interrupted while running " + program, e);
    }
  }
}
