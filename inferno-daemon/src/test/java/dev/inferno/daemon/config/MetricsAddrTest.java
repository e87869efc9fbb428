package dev.inferno.daemon.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** metrics-addr: off by default (the default config has it commented out), HOST:PORT when set. */
class MetricsAddrTest {
  @Test
  void offByDefaultAndCommentedInTheDefaultConfig() throws Exception {
    assertThat(ConfigFile.build(ConfigFile.read(null)).metricsAddr()).isNull();
    assertThat(ConfigFile.DEFAULT).contains("# metrics-addr = 127.0.0.1:9323");
  }

  @Test
  void hostAndPortOrARefusalSayingTheForm() throws Exception {
    Map<String, String> s = ConfigFile.read(null);
    s.put("metrics-addr", "127.0.0.1:9323");
    assertThat(ConfigFile.build(s).metricsAddr()).isEqualTo("127.0.0.1:9323");
    s.put("metrics-addr", "[::1]:9323");
    assertThat(ConfigFile.build(s).metricsAddr()).isEqualTo("[::1]:9323");
    for (String bad : new String[] {"9323", ":9323", "localhost:http", "::1:9323", "h:70000"}) {
      s.put("metrics-addr", bad);
      assertThatThrownBy(() -> ConfigFile.build(s))
          .as(bad)
          .hasMessageContaining("metrics-addr must be HOST:PORT");
    }
  }
}
