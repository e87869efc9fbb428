package dev.inferno.kiln.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The golden run configs of testdata/protocol/run-config, parsed by init's tests too. */
class RunConfigTest {
  static final Path DIR = VectorsTest.DIR.resolve("run-config");

  static RunConfig golden(String name) throws IOException {
    return RunConfig.fromJson(Files.readString(DIR.resolve(name)));
  }

  @Test
  void theFullConfigHasEveryField() throws IOException {
    RunConfig c = golden("full.json");
    assertThat(c.vmId()).isEqualTo("9f86d081884c7d65");
    assertThat(c.hostname()).isEqualTo("web-1");
    assertThat(c.process().argv())
        .containsExactly("/docker-entrypoint.sh", "nginx", "-g", "daemon off;");
    assertThat(c.process().env())
        .containsExactly(
            "HOSTNAME=web-1",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "DEBUG=1");
    assertThat(c.process().workdir()).isEqualTo("/srv");
    assertThat(c.process().user()).isEqualTo("nginx:www");
    assertThat(c.process().stopSignal()).isEqualTo("SIGQUIT");
    assertThat(c.root()).isEqualTo(new RunConfig.Root("/dev/vda", null, true));
    assertThat(c.mounts())
        .containsExactly(
            new RunConfig.Mount.Volume("/dev/vdb", "/var/lib/data", false),
            new RunConfig.Mount.Volume("/dev/vdc", "/etc/app", true),
            new RunConfig.Mount.Tmpfs("/var/cache/app", 67108864L, 1023));
    assertThat(c.transport()).isEqualTo(RunConfig.Transport.VIRTIO_SERIAL);
    assertThat(c.process().tty()).isTrue();
    assertThat(c.process().stdin()).isTrue();
    assertThat(c.process().consoleSize()).isEqualTo(new ConsoleSize(50, 132));
    assertThat(c.ports()).isEqualTo(new GuestPorts(11000, 11001, 11002, 11003, 11004));
    assertThat(c.ports().of(Channel.SESSION)).isEqualTo(11004);
    assertThat(c.ports().of(Channel.CONTROL)).isEqualTo(11003);
    assertThat(c.stopTimeoutSecs()).isEqualTo(30);
    assertThat(c.log()).isEqualTo(new RunConfig.LogSettings(RunConfig.LogMode.DROP, 65536, 2500));
    assertThat(c.metricsIntervalSecs()).isEqualTo(5);
    assertThat(c.dns().nameservers()).containsExactly("10.0.0.53");
    assertThat(c.dns().search()).containsExactly("corp.example");
    assertThat(c.hosts()).containsExactly("10.0.0.7 db.internal");
    assertThat(c.network())
        .isEqualTo(new RunConfig.Network("02:42:ac:1e:00:02", "172.30.0.2/30", "172.30.0.1", 9000));
    assertThat(c.network().ip()).isEqualTo("172.30.0.2");
  }

  @Test
  void theMinimalConfigGetsTheDefaults() throws IOException {
    RunConfig c = golden("minimal.json");
    assertThat(c.hostname()).isEqualTo("abc");
    assertThat(c.process())
        .isEqualTo(new ProcessSpec(List.of("/bin/true"), List.of(), "/", "0:0", "SIGTERM"));
    assertThat(c.root()).isEqualTo(RunConfig.Root.DEFAULT);
    assertThat(c.root().readonly()).isFalse();
    assertThat(c.mounts()).isEmpty();
    assertThat(c.transport()).isEqualTo(RunConfig.Transport.AUTO);
    assertThat(c.process().tty()).isFalse();
    assertThat(c.process().stdin()).isFalse();
    assertThat(c.process().consoleSize()).isNull();
    assertThat(c.ports()).isEqualTo(new GuestPorts(10000, 10001, 10002, 10003));
    assertThat(c.ports()).isEqualTo(new GuestPorts(10000, 10001, 10002, 10003, 10004));
    assertThat(c.stopTimeoutSecs()).isEqualTo(10);
    assertThat(c.log()).isEqualTo(RunConfig.LogSettings.DEFAULT);
    assertThat(c.log().bufferBytes()).isEqualTo(1 << 20);
    assertThat(c.metricsIntervalSecs()).isZero();
    assertThat(c.dns()).isEqualTo(RunConfig.Dns.NONE);
    assertThat(c.hosts()).isEmpty();
    assertThat(c.network()).as("no network: --network none, only lo").isNull();
    assertThat(c).isEqualTo(RunConfig.builder("abc", c.process()).build());
  }

  @Test
  void encodingThenParsingGivesTheSameConfig() throws IOException {
    for (String name : List.of("full.json", "minimal.json")) {
      RunConfig c = golden(name);
      String json = c.toJson();
      assertThat(json).startsWith("{\"version\":2,").doesNotContain(" : ");
      assertThat(RunConfig.fromJson(json)).isEqualTo(c);
    }
  }

  static Stream<Arguments> invalid() throws IOException {
    JsonNode cases = new ObjectMapper().readTree(DIR.resolve("cases.json").toFile());
    List<Arguments> out = new ArrayList<>();
    for (JsonNode c : cases.get("invalid")) {
      out.add(Arguments.of(c.get("file").asText(), c.get("error").asText()));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void invalidConfigsNameTheField(String file, String error) {
    assertThatThrownBy(() -> golden(file))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining(error);
  }

  @Test
  void networkMtuDefaultsTo1500AndNullMeansNone() {
    String head = "{\"version\":2,\"vm_id\":\"a\",\"process\":{\"argv\":[\"x\"]},";
    RunConfig c =
        RunConfig.fromJson(
            head
                + "\"network\":{\"mac\":\"02:00:00:00:00:01\",\"address\":\"10.1.2.6/31\","
                + "\"gateway\":\"10.1.2.7\"}}");
    assertThat(c.network().mtu()).isEqualTo(1500);
    assertThat(RunConfig.fromJson(head + "\"network\":null}").network()).isNull();
    assertThat(RunConfig.fromJson(c.toJson())).isEqualTo(c);
    assertThat(c.toBuilder().network(null).build().toJson()).contains("\"network\":null");
  }

  @Test
  void networkRecordChecksLikeTheParser() {
    assertThatThrownBy(() -> new RunConfig.Network(null, "10.0.0.2/30", "10.0.0.1", 1500))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("network.mac is missing");
    assertThatThrownBy(
            () -> new RunConfig.Network("02:00:00:00:00:01", "10.0.0.2/+3", "10.0.0.1", 1500))
        .hasMessageContaining("prefix length 1-31");
    assertThatThrownBy(
            () -> new RunConfig.Network("02:00:00:00:00:01", "10.0.0.2/32", "10.0.0.1", 1500))
        .hasMessageContaining("prefix length 1-31");
    assertThatThrownBy(
            () -> new RunConfig.Network("02:00:00:00:00:01", "10.0.0.2/30", "10.0.0.1", 65536))
        .hasMessage("network.mtu must be 68 to 65535, not 65536");
    assertThat(new RunConfig.Network("02:00:00:00:00:01", "10.0.0.2/8", "10.200.0.1", 68).ip())
        .isEqualTo("10.0.0.2");
  }

  @Test
  void theSessionFieldsAreWrittenExplicitly() throws IOException {
    String full = golden("full.json").toJson();
    assertThat(full)
        .contains("\"tty\":true,\"stdin\":true,\"console_size\":[50,132]")
        .contains("\"session\":11004");
    assertThat(golden("minimal.json").toJson())
        .contains("\"tty\":false,\"stdin\":false,\"console_size\":null")
        .contains("\"session\":10004");
  }

  @Test
  void theInvalidSessionFieldsGiveTheSharedTexts() {
    String head = "{\"version\":2,\"vm_id\":\"a\",\"process\":{\"argv\":[\"x\"],";
    assertThatThrownBy(() -> RunConfig.fromJson(head + "\"console_size\":[80,70000]}}"))
        .hasMessage("process.console_size must be [rows, cols], each 1 to 65535, not [80,70000]");
    assertThatThrownBy(() -> RunConfig.fromJson(head + "\"console_size\":\"24x80\"}}"))
        .hasMessageContaining("process.console_size must be [rows, cols], each 1 to 65535");
    assertThatThrownBy(() -> RunConfig.fromJson(head + "\"stdin\":1}}"))
        .hasMessage("process.stdin must be true or false, not 1");
    assertThatThrownBy(() -> RunConfig.fromJson(head + "\"tty\":\"yes\"}}"))
        .hasMessage("process.tty must be true or false, not \"yes\"");
    assertThatThrownBy(() -> new ConsoleSize(0, 80))
        .hasMessageContaining("each 1 to 65535, not [0, 80]");
    assertThat(ConsoleSize.of(new int[] {24, 80})).isEqualTo(new ConsoleSize(24, 80));
    assertThat(ConsoleSize.of(null)).isNull();
  }

  @Test
  void theOldProcessConstructorHasNoTerminal() {
    ProcessSpec p = new ProcessSpec(List.of("x"), List.of(), "/", "0:0", "SIGTERM");
    assertThat(p.tty()).isFalse();
    assertThat(p.stdin()).isFalse();
    assertThat(p.consoleSize()).isNull();
    assertThat(p.withTerminal(true, true, new ConsoleSize(24, 80)).consoleSize().cols())
        .isEqualTo(80);
    RunConfig c = RunConfig.builder("a", p).build();
    assertThat(c.toBuilder().process(p.withTerminal(false, true, null)).build().process().stdin())
        .isTrue();
  }

  @Test
  void mountsAndReadOnlyRootAreWrittenWithTheProtocolsNames() throws IOException {
    String full = golden("full.json").toJson();
    assertThat(full)
        .contains(
            "\"root\":{\"image_device\":\"/dev/vda\",\"writable_device\":null,\"readonly\":true}")
        .contains(
            "\"mounts\":[{\"type\":\"volume\",\"device\":\"/dev/vdb\",\"target\":\"/var/lib/data\","
                + "\"readonly\":false},{\"type\":\"volume\",\"device\":\"/dev/vdc\","
                + "\"target\":\"/etc/app\",\"readonly\":true},{\"type\":\"tmpfs\","
                + "\"target\":\"/var/cache/app\",\"size_bytes\":67108864,\"mode\":1023}]");
    RunConfig c =
        RunConfig.builder("a", new ProcessSpec(List.of("x"), List.of(), "/", "0:0", "SIGTERM"))
            .mounts(List.of(new RunConfig.Mount.Tmpfs("/t", null, null)))
            .build();
    assertThat(c.toJson())
        .contains("\"readonly\":false}")
        .contains("{\"type\":\"tmpfs\",\"target\":\"/t\",\"size_bytes\":null,\"mode\":null}");
    assertThat(RunConfig.fromJson(c.toJson())).isEqualTo(c);
  }

  @Test
  void invalidMountsNameTheEntry() {
    String head = "{\"version\":2,\"vm_id\":\"a\",\"process\":{\"argv\":[\"x\"]},\"mounts\":";
    assertThatThrownBy(() -> RunConfig.fromJson(head + "[{\"target\":\"/x\"}]}"))
        .hasMessage("mounts[0].type is missing");
    assertThatThrownBy(() -> RunConfig.fromJson(head + "[\"/x\"]}"))
        .hasMessage("mounts[0] must be an object, not string");
    assertThatThrownBy(() ->
            RunConfig.fromJson(
                head + "[{\"type\":\"volume\",\"device\":\"vdc\",\"target\":\"/x\"}]}"))
        .hasMessage("mounts[0].device must be an absolute path, not \"vdc\"");
    assertThatThrownBy(() ->
            RunConfig.fromJson(head + "[{\"type\":\"tmpfs\",\"target\":\"/x\",\"mode\":-1}]}"))
        .hasMessage("mounts[0].mode must be a non-negative integer, not -1");
    assertThat(RunConfig.fromJson(head + "null}").mounts()).isEmpty();
    assertThatThrownBy(() -> new RunConfig.Mount.Tmpfs("/x", null, 4096))
        .hasMessage("mode must be 0 to 4095, not 4096");
  }

  @Test
  void notJsonAtAll() {
    assertThatThrownBy(() -> RunConfig.fromJson("{not json"))
        .isInstanceOf(ProtocolException.class)
        .hasMessageStartingWith("not valid JSON");
  }
}
