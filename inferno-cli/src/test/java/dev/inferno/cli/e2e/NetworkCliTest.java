package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.model.json.Json;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The network flags through the real bin/inferno and the daemon's API, store and network code (real
 * TAPs, nftables and proxies under the test names; the VMs are host processes, so no guest answers
 * behind a port — the guest tests do that): what {@code ps}, {@code port} and {@code inspect} show,
 * and every bad input refused with 125 leaving nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NetworkCliTest {
  @TempDir static Path dir;
  Inferno inferno;

  @BeforeAll
  void start() throws Exception {
    inferno = Inferno.start(dir);
  }

  @AfterAll
  void stop() throws Exception {
    inferno.close();
  }

  @Test
  void psPortAndInspectShowThePublishedPorts() throws Exception {
    int h = Inferno.freePort();
    var r =
        inferno.run(
            "run",
            "-d",
            "--name",
            "pub",
            "-p",
            "127.0.0.1:" + h + ":80",
            "-p",
            "127.0.0.1::53/udp",
            "--hostname",
            "web1",
            "--dns",
            "192.0.2.53",
            "--dns-search",
            "example.com",
            "--add-host",
            "db:10.0.0.5",
            "busybox",
            "sleep",
            "100");
    assertThat(r.code()).as(r.toString()).isZero();

    var port = inferno.run("port", "pub");
    assertThat(port.code()).as(port.toString()).isZero();
    List<String> lines = port.out().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).isEqualTo("80/tcp -> 127.0.0.1:" + h);
    assertThat(lines.get(1)).matches("53/udp -> 127\\.0\\.0\\.1:[0-9]+");
    var one = inferno.run("port", "pub", "80");
    assertThat(one.out()).isEqualTo("127.0.0.1:" + h + "\n");
    var missing = inferno.run("port", "pub", "81/tcp");
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).isEqualTo("inferno: no public port '81/tcp' published for pub\n");

    var ps = inferno.run("ps");
    assertThat(ps.out().lines().findFirst().orElseThrow())
        .contains("STATUS")
        .contains("PORTS")
        .endsWith("NAMES");
    assertThat(ps.out()).contains("127.0.0.1:" + h + "->80/tcp, 127.0.0.1:");

    var inspect = inferno.run("inspect", "pub");
    Map<?, ?> vm = (Map<?, ?>) ((List<?>) Json.parse(inspect.out())).getFirst();
    Map<?, ?> net = (Map<?, ?>) vm.get("networkSettings");
    assertThat(net.get("network")).isEqualTo("default");
    assertThat((String) net.get("ipAddress")).matches("10\\.213\\.[0-9]+\\.[0-9]+");
    assertThat(net.get("ipPrefixLen")).isEqualTo(30L);
    assertThat((String) net.get("macAddress")).startsWith("02:");
    assertThat((List<?>) net.get("ports")).hasSize(2);
    Map<?, ?> req = (Map<?, ?>) vm.get("request");
    assertThat(req.get("hostname")).isEqualTo("web1");
    assertThat(req.get("dns")).isEqualTo(List.of("192.0.2.53"));
    assertThat(req.get("extraHosts")).isEqualTo(List.of("db:10.0.0.5"));

    // rm -f: the port is free again, the device is gone
    String device = (String) net.get("device");
    assertThat(inferno.run("rm", "-f", "pub").code()).isZero();
    try (ServerSocket again = new ServerSocket(h, 1, InetAddress.getLoopbackAddress())) {
      assertThat(again.getLocalPort()).isEqualTo(h);
    }
    assertThat(Path.of("/sys/class/net", device)).doesNotExist();
  }

  @Test
  void networkNoneHasNoAddressAndNoPorts() throws Exception {
    var r =
        inferno.run(
            "run", "-d", "--name", "lonely", "--network", "none", "busybox", "sleep", "100");
    assertThat(r.code()).as(r.toString()).isZero();
    var inspect = inferno.run("inspect", "lonely");
    Map<?, ?> vm = (Map<?, ?>) ((List<?>) Json.parse(inspect.out())).getFirst();
    Map<?, ?> net = (Map<?, ?>) vm.get("networkSettings");
    assertThat(net.get("network")).isEqualTo("none");
    assertThat(net.get("ipAddress")).isNull();
    assertThat(inferno.run("port", "lonely").out()).isEmpty();
    assertThat(inferno.run("rm", "-f", "lonely").code()).isZero();
  }

  @Test
  void everyBadNetworkInputIs125AndLeavesNothing() throws Exception {
    String before = inferno.run("ps", "-a", "-q").out();
    List<String> devicesBefore = devices();
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int t = taken.getLocalPort();
      Map<List<String>, String> bad =
          Map.ofEntries(
              Map.entry(List.of("-p", "0"), "port 0 is out of range"),
              Map.entry(List.of("-p", "8080:65536"), "port 65536 is out of range"),
              Map.entry(List.of("-p", "80/sctp"), "sctp is not supported"),
              Map.entry(List.of("-p", "abc"), "is not a number from 1 to 65535"),
              Map.entry(
                  List.of("-p", "127.0.0.1:" + t + ":80"),
                  "port " + t + " on 127.0.0.1 is already in use"),
              Map.entry(List.of("--network", "host"), "cannot share the host's"),
              Map.entry(List.of("--network", "mynet"), "unknown network \"mynet\""),
              Map.entry(List.of("--network", "none", "-p", "80"), "conflict"),
              Map.entry(List.of("--dns", "dns.google"), "invalid --dns"),
              Map.entry(List.of("--add-host", "nocolon"), "invalid --add-host"),
              Map.entry(List.of("--hostname", "a_b"), "invalid hostname"));
      for (var e : bad.entrySet()) {
        List<String> args = new java.util.ArrayList<>(List.of("run", "-d"));
        args.addAll(e.getKey());
        args.addAll(List.of("busybox", "sleep", "100"));
        var r = inferno.run(args.toArray(String[]::new));
        assertThat(r.code()).as(args + "\n" + r).isEqualTo(125);
        assertThat(r.err()).as(args.toString()).startsWith("inferno: ").contains(e.getValue());
        assertThat(r.err().lines()).as(args.toString()).hasSize(1);
        assertThat(r.out()).isEmpty();
      }
    }
    assertThat(inferno.run("ps", "-a", "-q").out()).as("no record").isEqualTo(before);
    assertThat(devices()).as("no device").isEqualTo(devicesBefore);
  }

  /** The test daemon's TAPs (TestNetworks' prefix). */
  static List<String> devices() throws Exception {
    Process p = new ProcessBuilder("ip", "-br", "link").start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out.lines()
        .map(l -> l.split("\\s+")[0])
        .filter(n -> n.startsWith("ift"))
        .sorted()
        .toList();
  }
}
