package dev.inferno.image.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small registry in front of an OCI layout that can lie: the repository name picks the behaviour
 * ({@code good}, {@code corrupt}, {@code truncated}, {@code flaky}, {@code longer}, {@code
 * redirect}, {@code badmanifest}, {@code schema1}); manifests come with a {@code
 * Docker-Content-Digest} header except from {@code quiet}, and {@code liar} sends a body other than
 * the one its header names.
 */
public final class FakeRegistry implements AutoCloseable {
  private final HttpServer server;
  private final Path layout;
  private final Map<String, String> tags = new ConcurrentHashMap<>();

  /** Requests per path. */
  public final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

  /** Range headers seen on blob requests. */
  public final List<String> ranges = new CopyOnWriteArrayList<>();

  /** Authorization headers seen by the redirect target ("none" when absent). */
  public final List<String> storageAuth = new CopyOnWriteArrayList<>();

  public FakeRegistry(Path layout) throws IOException {
    this.layout = layout;
    JsonNode index = OciLayout.JSON.readTree(layout.resolve("index.json").toFile());
    for (JsonNode m : index.path("manifests")) {
      tags.put(
          m.path("annotations").path("org.opencontainers.image.ref.name").asText(),
          m.path("digest").asText());
    }
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v2/", this::v2);
    server.createContext("/storage/", this::storage);
    server.start();
  }

  public String hostPort() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  private byte[] blob(String digest) throws IOException {
    return Files.readAllBytes(layout.resolve("blobs/sha256").resolve(digest.substring(7)));
  }

  private void v2(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      hits.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
      if (path.equals("/v2/")) {
        send(ex, 200, new byte[0], null);
        return;
      }
      String[] p = path.split("/"); // "", v2, repo, kind, ref
      String repo = p[2];
      String kind = p[3];
      String ref = p[4];
      if (repo.equals("redirect")
          && !"Basic dTpw".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"fake\"");
        send(ex, 401, new byte[0], null);
        return;
      }
      if (kind.equals("manifests")) {
        if (repo.equals("schema1")) {
          send(
              ex,
              200,
              "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}".getBytes(),
              "application/vnd.docker.distribution.manifest.v1+prettyjws");
          return;
        }
        String digest = ref.startsWith("sha256:") ? ref : tags.get(ref);
        if (digest == null) {
          send(
              ex,
              404,
              "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}".getBytes(),
              "application/json");
          return;
        }
        byte[] body = blob(digest);
        if (repo.equals("badmanifest") || repo.equals("liar")) {
          body = (new String(body, StandardCharsets.UTF_8) + " ").getBytes(StandardCharsets.UTF_8);
        }
        if (!repo.equals("quiet")) {
          // the digest of what it stores, whatever body it sends
          ex.getResponseHeaders().add("Docker-Content-Digest", digest);
        }
        String mt = OciLayout.JSON.readTree(body).path("mediaType").asText();
        send(ex, 200, body, mt);
        return;
      }
      byte[] body = blob(ref);
      String range = ex.getRequestHeaders().getFirst("Range");
      if (range != null) {
        ranges.add(range);
      }
      boolean big = body.length > 100_000; // only the busybox layer is lied about
      switch (repo) {
        case "corrupt" -> {
          if (big) {
            body = body.clone();
            body[body.length / 2] ^= 0x01;
          }
          send(ex, 200, body, null);
        }
        case "longer" -> {
          if (big) {
            byte[] b = new byte[body.length + 10];
            System.arraycopy(body, 0, b, 0, body.length);
            body = b;
          }
          send(ex, 200, body, null);
        }
        case "truncated" -> {
          if (big) {
            truncate(ex, body);
          } else {
            send(ex, 200, body, null);
          }
        }
        case "flaky" -> {
          if (big && range == null) {
            truncate(ex, body);
          } else if (range != null) {
            int from = Integer.parseInt(range.substring("bytes=".length(), range.indexOf('-')));
            byte[] rest = java.util.Arrays.copyOfRange(body, from, body.length);
            ex.getResponseHeaders()
                .add(
                    "Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
            send(ex, 206, rest, null);
          } else {
            send(ex, 200, body, null);
          }
        }
        case "redirect" -> {
          ex.getResponseHeaders().add("Location", "/storage/" + ref.substring(7));
          send(ex, 307, new byte[0], null);
        }
        default -> send(ex, 200, body, null);
      }
    }
  }

  private static void truncate(HttpExchange ex, byte[] body) throws IOException {
    ex.sendResponseHeaders(200, body.length);
    OutputStream out = ex.getResponseBody();
    out.write(body, 0, body.length / 3);
    out.flush();
    // closing the exchange without the rest drops the connection mid-body
  }

  private void storage(HttpExchange ex) throws IOException {
    try (ex) {
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      storageAuth.add(auth == null ? "none" : auth);
      send(
          ex,
          200,
          blob("sha256:" + ex.getRequestURI().getPath().substring("/storage/".length())),
          null);
    }
  }

  private static void send(HttpExchange ex, int code, byte[] body, String type) throws IOException {
    if (type != null) {
      ex.getResponseHeaders().add("Content-Type", type);
    }
    ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      ex.getResponseBody().write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
