package dev.inferno.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.image.ref.Digest;
import dev.inferno.image.ref.ImageRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * A client for the OCI distribution API: manifests and blobs, anonymous, Basic and Bearer-token
 * auth, redirects without forwarding credentials, retries with backoff and blob resume by Range.
 * Every manifest and blob is verified against the digest it was asked for, while streaming.
 */
public final class RegistryClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_MANIFEST = 4 << 20;
  private static final int ATTEMPTS = 4;
  private static final int MAX_REDIRECTS = 5;

  private final HttpClient http;
  private final CredentialSource credentials;
  private final Set<String> insecure;
  private final Duration backoff;

  /** host → the last auth challenge it sent (so later requests authenticate up front). */
  private final Map<String, AuthChallenge> challenges = new ConcurrentHashMap<>();

  /** host + " " + scope → bearer token. */
  private final Map<String, Token> tokens = new ConcurrentHashMap<>();

  private record Token(String value, Instant expires) {}

  /**
   * @param insecure registries (host[:port] as in references) reached over plain HTTP; localhost
   *     and 127.0.0.0/8 always are.
   */
  public RegistryClient(CredentialSource credentials, Set<String> insecure) {
    this(credentials, insecure, Duration.ofMillis(250));
  }

  public RegistryClient(CredentialSource credentials, Set<String> insecure, Duration backoff) {
    this.credentials = credentials;
    this.insecure = Set.copyOf(insecure);
    this.backoff = backoff;
    this.http =
        HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(15))
            .build();
  }

  private String base(ImageRef ref) {
    String host = ref.apiHost();
    String h =
        host.startsWith("[") ? host.substring(0, host.indexOf(']') + 1) : host.split(":", -1)[0];
    boolean plain =
        insecure.contains(ref.domain())
            || insecure.contains(host)
            || h.equals("localhost")
            || h.startsWith("127.")
            || h.equals("[::1]");
    return (plain ? "http://" : "https://") + host;
  }

  /**
   * Fetches the manifest for a tag or digest, verified against the digest when one is given and
   * against the registry's {@code Docker-Content-Digest} header when it sends one.
   */
  public Manifest manifest(ImageRef ref, String reference) {
    URI uri = URI.create(base(ref) + "/v2/" + ref.repository() + "/manifests/" + reference);
    Digest expected = reference.contains(":") ? Digest.parse(reference) : null;
    for (int attempt = 1; ; attempt++) {
      try {
        HttpResponse<InputStream> r =
            send(
                ref,
                uri,
                "GET",
                Map.of("Accept", String.join(", ", MediaTypes.ACCEPT_MANIFESTS)),
                true);
        try (InputStream body = r.body()) {
          if (r.statusCode() == 404) {
            throw new RegistryException(
                "manifest "
                    + reference
                    + " not found in "
                    + ref.name()
                    + " (check the image name and tag)",
                404);
          }
          checkStatus(r, ref, "manifest " + reference);
          byte[] bytes = body.readNBytes((int) MAX_MANIFEST + 1);
          if (bytes.length > MAX_MANIFEST) {
            throw new RegistryException("manifest " + reference + " is larger than 4 MiB", 0);
          }
          Digest actual =
              verifyManifest(
                  bytes,
                  expected,
                  r.headers().firstValue("Docker-Content-Digest").orElse(null),
                  ref,
                  reference);
          String ct = r.headers().firstValue("Content-Type").orElse(null);
          if (ct != null && ct.contains(";")) {
            ct = ct.substring(0, ct.indexOf(';')).trim();
          }
          return Manifest.parse(bytes, actual, ct);
        }
      } catch (IOException e) {
        retryOrThrow(attempt, ref, e);
      } catch (RetryableStatus e) {
        retryOrThrow(attempt, ref, e);
      }
    }
  }

  /**
   * The manifest's digest, after checking the body against the digest asked for and, when the
   * registry sent one, the {@code Docker-Content-Digest} header (as containerd does): a registry
   * that answers a tag with a body other than the one it names is not believed.
   */
  private static Digest verifyManifest(
      byte[] bytes, Digest requested, String header, ImageRef ref, String reference) {
    if (requested != null && !matches(requested, bytes)) {
      throw new DigestMismatchException(
          "manifest from " + ref.name() + " does not match its digest " + requested);
    }
    if (header != null && !header.isBlank()) {
      Digest claimed;
      try {
        claimed = Digest.parse(header.trim());
      } catch (IllegalArgumentException e) {
        throw new RegistryException(
            "registry "
                + ref.domain()
                + " sent a malformed Docker-Content-Digest header for manifest "
                + reference
                + ": "
                + header,
            0);
      }
      if (!matches(claimed, bytes)) {
        Digest body =
            new Digest(
                claimed.algorithm(),
                java.util.HexFormat.of().formatHex(claimed.newHasher().digest(bytes)));
        throw new DigestMismatchException(
            "manifest "
                + reference
                + " from "
                + ref.name()
                + " has digest "
                + body
                + " but the registry's Docker-Content-Digest header says "
                + claimed
                + "; nothing was stored (the registry or a proxy in front of it is serving"
                + " inconsistent content)");
      }
    }
    return requested != null ? requested : Digest.sha256(bytes);
  }

  private static boolean matches(Digest d, byte[] bytes) {
    MessageDigest md = d.newHasher();
    md.update(bytes);
    return d.matches(md);
  }

  /**
   * Streams a blob into {@code out}, resuming by Range after a broken connection, and verifies the
   * bytes against the descriptor's digest and size. Throws {@link DigestMismatchException} when the
   * bytes are not what the digest promises.
   */
  public void blob(ImageRef ref, Descriptor d, OutputStream out, LongConsumer progress) {
    URI uri = URI.create(base(ref) + "/v2/" + ref.repository() + "/blobs/" + d.digest());
    MessageDigest md = d.digest().newHasher();
    long done = 0;
    byte[] buf = new byte[1 << 16];
    for (int attempt = 1; ; attempt++) {
      try {
        Map<String, String> headers = done > 0 ? Map.of("Range", "bytes=" + done + "-") : Map.of();
        HttpResponse<InputStream> r = send(ref, uri, "GET", headers, true);
        try (InputStream body = r.body()) {
          if (r.statusCode() == 404) {
            throw new RegistryException("blob " + d.digest() + " not found in " + ref.name(), 404);
          }
          checkStatus(r, ref, "blob " + d.digest().shortHex());
          long skip = 0;
          if (done > 0 && r.statusCode() == 200) {
            skip = done; // server ignored Range: drop what we already have
          }
          int n;
          while ((n = body.read(buf)) > 0) {
            int off = 0;
            if (skip > 0) {
              int s = (int) Math.min(skip, n);
              skip -= s;
              off = s;
              if (off == n) {
                continue;
              }
            }
            int len = n - off;
            if (done + len > d.size()) {
              throw new DigestMismatchException(
                  "blob "
                      + d.digest()
                      + " from "
                      + ref.name()
                      + " is longer than its descriptor's "
                      + d.size()
                      + " bytes; refusing it");
            }
            md.update(buf, off, len);
            out.write(buf, off, len);
            done += len;
            progress.accept(done);
          }
          if (done < d.size()) {
            throw new IOException(
                "blob "
                    + d.digest().shortHex()
                    + " ended after "
                    + done
                    + " of "
                    + d.size()
                    + " bytes");
          }
          if (!d.digest().matches(md)) {
            throw new DigestMismatchException(
                "blob from "
                    + ref.name()
                    + " does not match its digest "
                    + d.digest()
                    + ": the registry sent different bytes; not stored");
          }
          return;
        }
      } catch (IOException e) {
        retryOrThrow(attempt, ref, e);
      } catch (RetryableStatus e) {
        retryOrThrow(attempt, ref, e);
      }
    }
  }

  /** Fetches a small blob (an image config) and verifies it. */
  public byte[] smallBlob(ImageRef ref, Descriptor d) {
    if (d.size() > MAX_MANIFEST) {
      throw new RegistryException("config blob " + d.digest() + " is larger than 4 MiB", 0);
    }
    var out = new java.io.ByteArrayOutputStream((int) d.size());
    blob(ref, d, out, x -> {});
    return out.toByteArray();
  }

  /**
   * Checks credentials for a registry as {@code docker login} does: {@code GET /v2/}, then Basic
   * auth or the Bearer token flow as the registry's challenge asks. Returns when the registry
   * accepts them (or needs none); throws a {@link RegistryException} with status 401 when it
   * rejects them, status 0 when it cannot be reached.
   *
   * @param domain the registry as in references (docker.io, 127.0.0.1:5000)
   */
  public void checkLogin(String domain, Credentials creds) {
    ImageRef ref = new ImageRef(domain, "library/login", "latest", null);
    URI uri = URI.create(base(ref) + "/v2/");
    forget(domain);
    try {
      HttpResponse<InputStream> first = exchange(uri, "GET", Map.of(), null);
      int s = status(first);
      if (s == 200) {
        return; // an open registry accepts anyone, like docker login does
      }
      if (s != 401) {
        throw new RegistryException(
            "login to " + domain + " failed: " + uri + " answered HTTP " + s, s);
      }
      String wa = first.headers().firstValue("WWW-Authenticate").orElse(null);
      if (wa == null) {
        throw new RegistryException(
            "login to " + domain + " failed: the registry sent 401 without a challenge", 401);
      }
      AuthChallenge c = AuthChallenge.parse(wa);
      String auth;
      if (c.scheme().equals("basic")) {
        auth = creds.basicHeader();
      } else if (c.scheme().equals("bearer")) {
        try {
          auth = "Bearer " + fetchToken(ref, c, null, Optional.of(creds)).value();
        } catch (RegistryException e) {
          if (e.status() == 401 || e.status() == 403) {
            throw rejected(domain);
          }
          throw e;
        }
      } else {
        throw new RegistryException(
            "login to " + domain + " failed: unsupported auth scheme " + c.scheme(), 401);
      }
      s = status(exchange(uri, "GET", Map.of(), auth));
      if (s == 401 || s == 403) {
        throw rejected(domain);
      }
      if (s != 200) {
        throw new RegistryException(
            "login to " + domain + " failed: " + uri + " answered HTTP " + s, s);
      }
    } catch (IOException e) {
      throw new RegistryException(
          "login to "
              + domain
              + " failed: cannot reach registry "
              + ref.apiHost()
              + " ("
              + describe(e)
              + "; is it up, and is the address right?)",
          e);
    }
  }

  private static RegistryException rejected(String domain) {
    return new RegistryException(
        "login to " + domain + " failed: unauthorized: check the user name and password", 401);
  }

  private static int status(HttpResponse<InputStream> r) throws IOException {
    r.body().close();
    return r.statusCode();
  }

  /** Drops cached challenges and tokens for a registry, after its credentials changed. */
  public void forget(String domain) {
    String host = new ImageRef(domain, "library/login", "latest", null).apiHost();
    challenges.remove(host);
    tokens.keySet().removeIf(k -> k.startsWith(host + " "));
  }

  private void retryOrThrow(int attempt, ImageRef ref, Exception e) {
    if (attempt >= ATTEMPTS) {
      if (e instanceof ConnectException) {
        throw new RegistryException(
            "cannot connect to registry "
                + ref.apiHost()
                + " (is it up, and is the address right?)",
            e);
      }
      throw new RegistryException(
          "registry " + ref.apiHost() + " failed after " + ATTEMPTS + " attempts: " + describe(e),
          e);
    }
    try {
      Thread.sleep(backoff.toMillis() << (attempt - 1));
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new RegistryException("interrupted", ie);
    }
  }

  private static String describe(Exception e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** A 5xx or 429: worth another try. */
  private static final class RetryableStatus extends Exception {
    private static final long serialVersionUID = 1L;

    RetryableStatus(String m) {
      super(m);
    }
  }

  private static void checkStatus(HttpResponse<?> r, ImageRef ref, String what)
      throws RetryableStatus {
    int s = r.statusCode();
    if (s == 200 || s == 206) {
      return;
    }
    if (s >= 500 || s == 429) {
      throw new RetryableStatus(what + ": HTTP " + s);
    }
    if (s == 401 || s == 403) {
      throw new RegistryException(
          "access to "
              + ref.name()
              + " denied (HTTP "
              + s
              + "): check your credentials"
              + " (inferno login "
              + ref.domain()
              + ") and that the repository exists",
          s);
    }
    throw new RegistryException(what + " from " + ref.apiHost() + ": HTTP " + s, s);
  }

  /**
   * Sends a request, authenticating as the registry asks and following redirects without
   * credentials.
   */
  private HttpResponse<InputStream> send(
      ImageRef ref, URI uri, String method, Map<String, String> headers, boolean authRetry)
      throws IOException {
    String scope = "repository:" + ref.repository() + ":pull";
    String auth = authorization(ref, scope, false);
    HttpResponse<InputStream> r = exchange(uri, method, headers, auth);
    if (r.statusCode() == 401 && authRetry) {
      String wa = r.headers().firstValue("WWW-Authenticate").orElse(null);
      r.body().close();
      if (wa == null) {
        return exchange(uri, method, headers, auth);
      }
      AuthChallenge c = AuthChallenge.parse(wa);
      challenges.put(ref.apiHost(), c);
      tokens.remove(ref.apiHost() + " " + scope);
      String again = authorization(ref, scope, true);
      r = exchange(uri, method, headers, again);
      if (r.statusCode() == 401) {
        r.body().close();
        boolean haveCreds = credentials.lookup(ref.domain()).isPresent();
        throw new RegistryException(
            haveCreds
                ? "authentication to "
                    + ref.domain()
                    + " failed: the registry rejected the"
                    + " credentials (run inferno login "
                    + ref.domain()
                    + " again)"
                : "authentication required by "
                    + ref.domain()
                    + " (run inferno login "
                    + ref.domain()
                    + ")",
            401);
      }
    }
    int redirects = 0;
    while (isRedirect(r.statusCode())) {
      String loc = r.headers().firstValue("Location").orElse(null);
      r.body().close();
      if (loc == null || ++redirects > MAX_REDIRECTS) {
        throw new RegistryException("bad redirect from " + uri.getHost(), r.statusCode());
      }
      uri = uri.resolve(loc);
      // blob storage (S3, CDN) gets no registry credentials
      r = exchange(uri, method, headers, null);
    }
    return r;
  }

  private static boolean isRedirect(int s) {
    return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
  }

  private HttpResponse<InputStream> exchange(
      URI uri, String method, Map<String, String> headers, String auth) throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody());
    b.timeout(Duration.ofMinutes(10));
    if (uri.getScheme().equals("http")) {
      b.version(HttpClient.Version.HTTP_1_1);
    }
    headers.forEach(b::header);
    if (auth != null) {
      b.header("Authorization", auth);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /** The Authorization header for a request to this registry, per its last challenge. */
  private String authorization(ImageRef ref, String scope, boolean fresh) throws IOException {
    AuthChallenge c = challenges.get(ref.apiHost());
    if (c == null) {
      return null;
    }
    Optional<Credentials> creds = credentials.lookup(ref.domain());
    if (c.scheme().equals("basic")) {
      return creds.map(Credentials::basicHeader).orElse(null);
    }
    if (!c.scheme().equals("bearer")) {
      throw new RegistryException(
          "registry " + ref.apiHost() + " asks for unsupported auth scheme " + c.scheme(), 401);
    }
    String key = ref.apiHost() + " " + scope;
    Token t = tokens.get(key);
    if (t != null && !fresh && Instant.now().isBefore(t.expires())) {
      return "Bearer " + t.value();
    }
    t = fetchToken(ref, c, scope, creds);
    tokens.put(key, t);
    return "Bearer " + t.value();
  }

  private Token fetchToken(ImageRef ref, AuthChallenge c, String scope, Optional<Credentials> creds)
      throws IOException {
    String realm = c.params().get("realm");
    if (realm == null || realm.isEmpty()) {
      throw new RegistryException(
          "registry " + ref.apiHost() + " sent a Bearer challenge without realm", 401);
    }
    StringBuilder q = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?");
    String service = c.params().get("service");
    if (service != null) {
      q.append("service=").append(URLEncoder.encode(service, StandardCharsets.UTF_8)).append('&');
    }
    if (scope != null) {
      q.append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
    } else {
      creds.ifPresent(cr ->
          q.append("account=").append(URLEncoder.encode(cr.username(), StandardCharsets.UTF_8)));
    }
    URI uri = URI.create(q.toString());
    HttpResponse<InputStream> r =
        exchange(uri, "GET", Map.of(), creds.map(Credentials::basicHeader).orElse(null));
    try (InputStream body = r.body()) {
      if (r.statusCode() == 401 || r.statusCode() == 403) {
        throw new RegistryException(
            "token server "
                + uri.getHost()
                + " refused the credentials for "
                + ref.domain()
                + " (HTTP "
                + r.statusCode()
                + "; run inferno login "
                + ref.domain()
                + ")",
            r.statusCode());
      }
      if (r.statusCode() != 200) {
        throw new RegistryException(
            "token server " + uri.getHost() + " answered HTTP " + r.statusCode(), r.statusCode());
      }
      JsonNode n = JSON.readTree(body.readNBytes(1 << 20));
      String token = n.path("token").asText("");
      if (token.isEmpty()) {
        token = n.path("access_token").asText("");
      }
      if (token.isEmpty()) {
        throw new RegistryException("token server " + uri.getHost() + " sent no token", 0);
      }
      long ttl = Math.max(n.path("expires_in").asLong(60), 10);
      return new Token(token, Instant.now().plusSeconds(ttl - 5));
    }
  }
}
