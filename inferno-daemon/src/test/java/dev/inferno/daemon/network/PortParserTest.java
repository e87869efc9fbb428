package dev.inferno.daemon.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PortParserTest {
  /** Each -p value and the publications it means, as Docker shows them (host port 0 = random). */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "80                    | 0.0.0.0:0->80/tcp",
        "80/udp                | 0.0.0.0:0->80/udp",
        "80/TCP                | 0.0.0.0:0->80/tcp",
        "8080:80               | 0.0.0.0:8080->80/tcp",
        "8080:80/udp           | 0.0.0.0:8080->80/udp",
        "127.0.0.1:8080:80     | 127.0.0.1:8080->80/tcp",
        "0.0.0.0:8080:80       | 0.0.0.0:8080->80/tcp",
        "127.0.0.1::80         | 127.0.0.1:0->80/tcp",
        "[::1]:8080:80         | [::1]:8080->80/tcp",
        "[::1]::80/udp         | [::1]:0->80/udp",
        "[FE80::1]:8080:80     | [fe80::1]:8080->80/tcp",
        "65535:1               | 0.0.0.0:65535->1/tcp",
        "8000-8002:80-82       | 0.0.0.0:8000->80/tcp 0.0.0.0:8001->81/tcp 0.0.0.0:8002->82/tcp",
        "10.0.0.1:53-54:53-54/udp | 10.0.0.1:53->53/udp 10.0.0.1:54->54/udp",
        "7000-7001             | 0.0.0.0:0->7000/tcp 0.0.0.0:0->7001/tcp",
        "9000-9000:90-90       | 0.0.0.0:9000->90/tcp",
      })
  void parses(String spec, String expected) {
    assertThat(PortParser.parse(spec))
        .extracting(PortSpec::toString)
        .containsExactly(expected.split(" "));
  }

  @Test
  void anExplicitAllAddressesIsAllAddresses() {
    assertThat(PortParser.parse("0.0.0.0:8080:80").getFirst().allAddresses()).isTrue();
    assertThat(PortParser.parse("127.0.0.1:8080:80").getFirst().allAddresses()).isFalse();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "``                   | it is empty",
        "0                    | port 0 is out of range; use a number from 1 to 65535",
        "0:80                 | host port 0 is out of range",
        "8080:0               | port 0 is out of range",
        "65536:80             | host port 65536 is out of range",
        "80:65536             | port 65536 is out of range",
        "99999999:80          | host port '99999999' is not a number",
        "http:80              | host port 'http' is not a number",
        "8080:                | port '' is not a number",
        "-1:80                | host port '' is not a number",
        "80/sctp              | sctp is not supported; use tcp or udp",
        "80/icmp              | unknown protocol 'icmp'; use /tcp or /udp",
        "80/                  | unknown protocol ''",
        "8000-8010:80-85      | have different lengths; give ranges of the same length",
        "8000-8010:80         | have different lengths",
        "90-80                | port range 90-80 ends before it starts",
        "localhost:8080:80    | 'localhost' is not an IPv4 address; put an IPv6 address in brackets",
        "1.2.3:8080:80        | '1.2.3' is not an IPv4 address",
        ":8080:80             | the host address before the first ':' is empty",
        "::1:8080:80          | too many ':' separated parts; an IPv6 host address goes in brackets",
        "[::1:8080:80         | an IPv6 host address goes in brackets followed by ':'",
        "[::1]:80             | after the host address give HOSTPORT:PORT",
        "[nope]:8080:80       | 'nope' is not an IPv6 address",
        "[fe80::1%eth0]:1:1   | 'fe80::1%eth0' is not an IPv6 address",
        "[1.2.3.4]:8080:80    | '1.2.3.4' is not an IPv6 address",
        "[::1]:1:2:3          | too many ':' separated parts",
      })
  void rejectsWithAMessageForTheUser(String spec, String message) {
    assertThatThrownBy(() -> PortParser.parse(spec))
        .isInstanceOf(InvalidPortSpecException.class)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("invalid port publication '" + spec + "': ")
        .hasMessageContaining(message);
  }

  @Test
  void parseAllKeepsTheOrder() {
    assertThat(PortParser.parseAll(List.of("53:53/udp", "127.0.0.1:80:8080")))
        .containsExactly(
            new PortSpec("", 53, 53, Protocol.UDP),
            new PortSpec("127.0.0.1", 80, 8080, Protocol.TCP));
  }

  @Test
  void publishAllExpandsExposeToRandomHostPorts() {
    assertThat(PortParser.exposed(List.of("80/tcp", "53/udp", "8080", "7000-7001/tcp")))
        .containsExactly(
            new PortSpec("", 0, 80, Protocol.TCP),
            new PortSpec("", 0, 53, Protocol.UDP),
            new PortSpec("", 0, 8080, Protocol.TCP),
            new PortSpec("", 0, 7000, Protocol.TCP),
            new PortSpec("", 0, 7001, Protocol.TCP));
    assertThatThrownBy(() -> PortParser.exposed(List.of("80/sctp")))
        .hasMessageContaining("sctp is not supported");
    assertThatThrownBy(() -> PortParser.exposed(List.of("0/tcp")))
        .hasMessageContaining("exposed port 0 is out of range");
  }
}
