package dev.inferno.image.ref;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImageRefTest {
  static final String D = "sha256:" + "a".repeat(64);

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      nullValues = "-",
      value = {
        "alpine                      | docker.io       | library/alpine | latest | -    | registry-1.docker.io",
        "alpine:3.20                 | docker.io       | library/alpine | 3.20   | -    | registry-1.docker.io",
        "library/alpine              | docker.io       | library/alpine | latest | -    | registry-1.docker.io",
        "docker.io/alpine            | docker.io       | library/alpine | latest | -    | registry-1.docker.io",
        "index.docker.io/o/r:t       | docker.io       | o/r            | t      | -    | registry-1.docker.io",
        "bitnami/redis:7             | docker.io       | bitnami/redis  | 7      | -    | registry-1.docker.io",
        "ghcr.io/o/r:tag             | ghcr.io         | o/r            | tag    | -    | ghcr.io",
        "localhost/x                 | localhost       | x              | latest | -    | localhost",
        "localhost:5000/a/b:c        | localhost:5000  | a/b            | c      | -    | localhost:5000",
        "host:5000/a/b@DIGEST        | host:5000       | a/b            | -      | DIG  | host:5000",
        "host:5000/a/b:t@DIGEST      | host:5000       | a/b            | t      | DIG  | host:5000",
        "127.0.0.1:5000/a__b/c-d.e:1 | 127.0.0.1:5000  | a__b/c-d.e     | 1      | -    | 127.0.0.1:5000",
      })
  void parsesDockersGrammar(
      String in, String domain, String repo, String tag, String dig, String api) {
    ImageRef r = ImageRef.parse(in.replace("DIGEST", D));
    assertThat(r.domain()).isEqualTo(domain);
    assertThat(r.repository()).isEqualTo(repo);
    assertThat(r.tag()).isEqualTo(tag);
    assertThat(r.digest()).isEqualTo(dig == null ? null : Digest.parse(D));
    assertThat(r.apiHost()).isEqualTo(api);
    assertThat(ImageRef.parse(r.toString())).isEqualTo(r);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "Alpine",
        "alpine:",
        "alpine:-x",
        "a//b",
        "/a",
        "a/",
        "alpine@sha256:abc",
        "alpine@md5:" + "a",
        "host:port/x",
        "UPPER/x/Y",
        "a:b:c",
        "x_/y",
        "ex ample"
      })
  void rejectsWhatDockerRejects(String in) {
    assertThatThrownBy(() -> ImageRef.parse(in))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("invalid reference format");
  }

  /** Normalized as Docker does (these cases came from the daemon's former References). */
  @ParameterizedTest
  @CsvSource({
    "alpine,docker.io/library/alpine:latest",
    "alpine:3.20,docker.io/library/alpine:3.20",
    "library/alpine,docker.io/library/alpine:latest",
    "ghcr.io/o/r:tag,ghcr.io/o/r:tag",
    "localhost:5000/a/b@DIGEST,localhost:5000/a/b@DIGEST",
    "host:5000/a,host:5000/a:latest"
  })
  void normalizesLikeDocker(String in, String normalized) {
    assertThat(ImageRef.parse(in.replace("DIGEST", D)).toString())
        .isEqualTo(normalized.replace("DIGEST", D));
  }

  @ParameterizedTest
  @ValueSource(strings = {"UPPER", "a@sha256:xyz", ":tag", "a:"})
  void rejectsWhatTheDaemonRejected(String in) {
    assertThatThrownBy(() -> ImageRef.parse(in), in)
        .hasMessageStartingWith("invalid reference format");
  }

  @ParameterizedTest
  @CsvSource({
    "alpine,alpine:latest",
    "docker.io/bitnami/redis:7,bitnami/redis:7",
    "ghcr.io/o/r:1,ghcr.io/o/r:1"
  })
  void familiarNames(String in, String familiar) {
    assertThat(ImageRef.parse(in).familiar()).isEqualTo(familiar);
  }

  @ParameterizedTest
  @CsvSource({
    "linux/amd64,linux,amd64,",
    "linux/arm64/v8,linux,arm64,v8",
    "linux/x86_64,linux,amd64,",
    "LINUX/AARCH64,linux,arm64,"
  })
  void platforms(String in, String os, String arch, String variant) {
    assertThat(Platform.parse(in)).isEqualTo(new Platform(os, arch, variant));
  }

  @ParameterizedTest
  @ValueSource(strings = {"linux", "linux/", "a/b/c/d", "/amd64"})
  void badPlatforms(String in) {
    assertThatThrownBy(() -> Platform.parse(in)).isInstanceOf(IllegalArgumentException.class);
  }

  @org.junit.jupiter.api.Test
  void arm64WithoutVariantMatchesV8() {
    assertThat(Platform.parse("linux/arm64/v8").accepts("linux", "arm64", null)).isTrue();
    assertThat(Platform.parse("linux/arm/v7").accepts("linux", "arm", "v6")).isFalse();
    assertThat(Platform.DEFAULT.accepts("linux", "amd64", null)).isTrue();
    assertThat(Platform.DEFAULT.accepts("windows", "amd64", null)).isFalse();
  }
}
