package dev.inferno.daemon.images;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.image.ConnectionFactory;
import dev.inferno.image.ImageService;
import dev.inferno.image.registry.CredentialSource;
import dev.inferno.image.registry.RegistryClient;
import dev.inferno.model.http.UnixHttpClient;
import dev.inferno.model.json.Json;
import dev.inferno.model.stream.Frame;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon with the real image module behind it: an OCI layout of busybox-static (built by
 * scripts/make-busybox-image.sh, no registry needed) is loaded through the API, listed, run with
 * its own config (the process backend runs the command on the host) and removed.
 */
class ImageModuleBackendTest {
  @TempDir Path dir;

  @Test
  void whatACrashLeftInTheSpoolIsDeletedAtStart() throws Exception {
    Path state = dir.resolve("state");
    Path spool = Files.createDirectories(state.resolve("images/spool"));
    Files.writeString(spool.resolve("load-123.tar"), "half an upload");
    Files.createDirectories(spool.resolve("odd/dir"));
    ImageService service =
        new ImageService(
            state,
            ConnectionFactory.sqlite(state.resolve("inferno.db")),
            new RegistryClient(CredentialSource.NONE, Set.of()));
    new ImageModuleBackend(service, spool);
    assertThat(spool).isEmptyDirectory();
  }

  @Test
  void loadListRunAndRemoveThroughTheApi() throws Exception {
    Path layout = dir.resolve("layout");
    Path root = Path.of(System.getProperty("inferno.root"));
    Process mk =
        new ProcessBuilder(
                root.resolve("scripts/make-busybox-image.sh").toString(), layout.toString(), "1.0")
            .redirectErrorStream(true)
            .start();
    String mkOut =
        new String(mk.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(mk.waitFor()).as(mkOut).isZero();
    Path tar = dir.resolve("busybox.tar");
    assertThat(
            new ProcessBuilder("tar", "-C", layout.toString(), "-cf", tar.toString(), ".")
                .start()
                .waitFor())
        .isZero();

    Path state = dir.resolve("d/state");
    try (TestDaemon d = TestDaemon.withImageModule(dir.resolve("d"), "1m")) {
      UnixHttpClient.Response r;
      String head =
          "POST /v1/images/load HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type:"
              + " application/x-tar\r\nContent-Length: "
              + Files.size(tar)
              + "\r\n\r\n";
      r =
          new UnixHttpClient(d.socket)
              .sendRaw(
                  head.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                  Files.readAllBytes(tar));
      assertThat(r.status()).isEqualTo(200);
      String progress = r.text();
      assertThat(progress).contains("\"status\":\"Done\"");
      assertThat(state.resolve("images/spool")).as("the spooled upload is gone").isEmptyDirectory();

      List<?> images =
          (List<?>) Json.parse(new UnixHttpClient(d.socket).send("GET", "/v1/images", null).text());
      assertThat(images).hasSize(1);
      Map<?, ?> img = (Map<?, ?>) images.getFirst();
      assertThat((String) img.get("id")).startsWith("sha256:");
      assertThat(((Number) img.get("sizeBytes")).longValue()).isPositive();

      // the image's config reaches the VM: Env PATH, and Cmd when none is given
      String ref = (String) img.get("reference");
      r =
          new UnixHttpClient(d.socket)
              .send(
                  "POST",
                  "/v1/vms?attach=true",
                  "{\"image\":\"" + ref + "\",\"cmd\":[\"sh\",\"-c\",\"echo $PATH\"]}");
      assertThat(r.status()).isEqualTo(200);
      StringBuilder out = new StringBuilder();
      InputStream in = r.body();
      for (Frame f = Frame.readFrom(in); f != null; f = Frame.readFrom(in)) {
        if (f.kind() == Frame.Kind.STDOUT) {
          out.append(f.text());
        }
      }
      r.close();
      assertThat(out.toString())
          .isEqualTo("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
      r =
          new UnixHttpClient(d.socket)
              .send("POST", "/v1/vms", "{\"image\":\"" + ref + "\",\"name\":\"defaults\"}");
      assertThat(r.status()).isEqualTo(201);
      r.close();
      Map<String, Object> vm =
          Json.parseObject(
              new UnixHttpClient(d.socket).send("GET", "/v1/vms/defaults", null).text());
      assertThat(vm.get("command")).isEqualTo(List.of("sh"));
      assertThat(vm.get("imageDigest")).isEqualTo(img.get("manifestDigest"));

      r = new UnixHttpClient(d.socket).send("DELETE", "/v1/images?ref=" + ref, null);
      assertThat(r.status()).as("an exited VM still uses it").isEqualTo(409);
      r.close();
      new UnixHttpClient(d.socket).send("POST", "/v1/vms/defaults/wait", null).text();
      r =
          new UnixHttpClient(d.socket)
              .send("DELETE", "/v1/images?ref=" + ref + "&force=true", null);
      assertThat(r.status()).isEqualTo(200);
      r.close();
      assertThat(
              (List<?>)
                  Json.parse(new UnixHttpClient(d.socket).send("GET", "/v1/images", null).text()))
          .isEmpty();
    }
  }
}
