package dev.inferno.image.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Docker token server (the {@code auth: token:} realm): checks Basic credentials, grants the
 * requested repository scopes in an RS256 JWT signed by a test-generated key whose self-signed
 * certificate is the registry's {@code rootcertbundle} (and is sent in the {@code x5c} header).
 */
public final class TokenServer implements AutoCloseable {
  public static final String SERVICE = "inferno-test-registry";
  public static final String ISSUER = "inferno-test-issuer";

  private final HttpServer server;
  private final Path cert;
  private final PrivateKey key;
  private final String x5c;
  private final String user;
  private final String password;
  public final AtomicInteger issued = new AtomicInteger();
  public final AtomicInteger refused = new AtomicInteger();

  private TokenServer(
      HttpServer server, Path cert, PrivateKey key, String x5c, String user, String password) {
    this.server = server;
    this.cert = cert;
    this.key = key;
    this.x5c = x5c;
    this.user = user;
    this.password = password;
  }

  public static TokenServer start(Path dir, String user, String password) throws IOException {
    Files.createDirectories(dir);
    Path keyPem = dir.resolve("key.pem");
    Path certPem = dir.resolve("cert.pem");
    Proc.run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        keyPem.toString(),
        "-out",
        certPem.toString(),
        "-days",
        "2",
        "-subj",
        "/CN=inferno-token");
    try {
      byte[] der = pem(Files.readString(keyPem), "PRIVATE KEY");
      PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
      String x5c =
          Base64.getEncoder().encodeToString(pem(Files.readString(certPem), "CERTIFICATE"));
      HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      TokenServer t = new TokenServer(s, certPem, key, x5c, user, password);
      s.createContext("/token", t::handle);
      s.start();
      return t;
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  private static byte[] pem(String text, String type) {
    String b64 =
        text.substring(
                text.indexOf("-----BEGIN " + type + "-----") + 16 + type.length(),
                text.indexOf("-----END " + type))
            .replaceAll("\\s", "");
    return Base64.getMimeDecoder().decode(b64);
  }

  public String realm() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
  }

  public Path certificate() {
    return cert;
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      String expected =
          "Basic "
              + Base64.getEncoder()
                  .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
      if (auth != null && !auth.equals(expected)) {
        refused.incrementAndGet();
        ex.sendResponseHeaders(401, -1);
        return;
      }
      boolean anonymous = auth == null;
      List<String> scopes = new ArrayList<>();
      String q = ex.getRequestURI().getRawQuery();
      for (String kv : q == null ? new String[0] : q.split("&")) {
        if (kv.startsWith("scope=")) {
          scopes.add(URLDecoder.decode(kv.substring(6), StandardCharsets.UTF_8));
        }
      }
      ObjectNode claims = OciLayout.JSON.createObjectNode();
      long now = System.currentTimeMillis() / 1000;
      claims.put("iss", ISSUER);
      claims.put("sub", anonymous ? "" : user);
      claims.put("aud", SERVICE);
      claims.put("exp", now + 300);
      claims.put("nbf", now - 10);
      claims.put("iat", now);
      claims.put("jti", UUID.randomUUID().toString());
      ArrayNode access = claims.putArray("access");
      if (!anonymous) { // anonymous callers get a token that grants nothing
        for (String s : scopes) {
          String[] parts = s.split(":");
          if (parts.length == 3) {
            ObjectNode a = access.addObject();
            a.put("type", parts[0]);
            a.put("name", parts[1]);
            ArrayNode actions = a.putArray("actions");
            for (String act : parts[2].split(",")) {
              actions.add(act);
            }
          }
        }
      }
      ObjectNode header = OciLayout.JSON.createObjectNode();
      header.put("typ", "JWT");
      header.put("alg", "RS256");
      header.putArray("x5c").add(x5c);
      Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
      String signingInput =
          b64.encodeToString(OciLayout.bytes(header))
              + "."
              + b64.encodeToString(OciLayout.bytes(claims));
      Signature sig = Signature.getInstance("SHA256withRSA");
      sig.initSign(key);
      sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      String jwt = signingInput + "." + b64.encodeToString(sig.sign());
      issued.incrementAndGet();
      byte[] body =
          ("{\"token\":\"" + jwt + "\",\"expires_in\":300}").getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
