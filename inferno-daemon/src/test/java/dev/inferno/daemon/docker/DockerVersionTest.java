package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.daemon.vm.ApiException;
import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;

/** DockerApi's version rules: which prefixes are served, and dockerd's words for the others. */
class DockerVersionTest {
  @Test
  void everyVersionFromMinToMaxIsStrippedToTheRoute() {
    for (int minor = 24; minor <= 44; minor++) {
      assertThat(DockerApi.DIALECT.routePath("/v1." + minor + "/containers/json"))
          .isEqualTo("/containers/json");
    }
    assertThat(DockerApi.DIALECT.routePath("/v1.41/_ping")).isEqualTo("/_ping");
  }

  @Test
  void noPrefixIsTheNewestAndPathsPassAsTheyAre() {
    assertThat(DockerApi.DIALECT.routePath("/_ping")).isEqualTo("/_ping");
    assertThat(DockerApi.DIALECT.routePath("/images/localhost:5000/busybox/json"))
        .isEqualTo("/images/localhost:5000/busybox/json");
    // not a version: a path that only looks like one stays as it is (and 404s later)
    assertThat(DockerApi.DIALECT.routePath("/v1/version")).isEqualTo("/v1/version");
  }

  @Test
  void tooNewAndTooOldAreRefusedAsDockerdWordsIt() {
    assertThatThrownBy(() -> DockerApi.DIALECT.routePath("/v1.45/version"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessage("client version 1.45 is too new. Maximum supported API version is 1.44");
    assertThatThrownBy(() -> DockerApi.DIALECT.routePath("/v2.0/version"))
        .hasMessageContaining("client version 2.0 is too new");
    assertThatThrownBy(() -> DockerApi.DIALECT.routePath("/v1.23/version"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessage(
            "client version 1.23 is too old. Minimum supported API version is 1.24, please"
                + " upgrade your client to a newer version");
  }

  @Test
  void versionsCompareNumericallyNotAsText() {
    assertThat(DockerApi.compare("1.9", "1.24")).isNegative();
    assertThat(DockerApi.compare("1.44", "1.44")).isZero();
    assertThat(DockerApi.compare("1.100", "1.44")).isPositive();
  }

  @Test
  void everyAnswerCarriesDockersHeaders() {
    HttpFields.Mutable h = HttpFields.build();
    DockerApi.DIALECT.headers(h);
    assertThat(h.get("Api-Version")).isEqualTo("1.44");
    assertThat(h.get("Ostype")).isEqualTo("linux");
    assertThat(h.get("Docker-Experimental")).isEqualTo("false");
    assertThat(h.get("Server")).isNotBlank();
  }
}
