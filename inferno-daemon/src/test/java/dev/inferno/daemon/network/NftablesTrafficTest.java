package dev.inferno.daemon.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rendered rule set against real traffic, all inside network namespaces so the machine's own
 * stack is untouched: "host" has the daemon's table, ip_forward and two VM links named like TAPs
 * (veth pairs to namespaces "a" and "b", each with an eth0 as a guest has); "out" is the outside
 * world behind the host's uplink. Small python3 servers answer with their name and the peer's
 * address, so a reply shows where a connection arrived and from which source.
 */
class NftablesTrafficTest {
  static final String SCRIPT =
      """
      import socket, sys
      mode, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
      if mode == "serve":
          s = socket.socket()
          s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
          s.bind((ip, port)); s.listen(16)
          print("ready", flush=True)
          while True:
              c, peer = s.accept()
              c.sendall(("%s %s" % (sys.argv[4], peer[0])).encode()); c.close()
      else:
          try:
              c = socket.create_connection((ip, port), timeout=1.0)
              print(c.recv(100).decode())
          except socket.timeout:
              print("timeout")
          except ConnectionRefusedError:
              print("refused")
      """;

  /** The system's python (the PATH one may be a slow pyenv shim). */
  static final String PYTHON =
      Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

  @TempDir Path dir;
  String tag;
  final List<String> namespaces = new ArrayList<>();
  final List<Process> servers = new ArrayList<>();

  String ns(String role) {
    return "inferno-test-" + tag + "-" + role;
  }

  @BeforeEach
  void setUp() throws IOException {
    Assumptions.assumeTrue(NetTesting.isRoot(), "network namespaces need root");
    tag = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    Files.writeString(dir.resolve("net.py"), SCRIPT);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Process p : servers) {
      p.destroyForcibly().waitFor();
    }
    for (String n : namespaces) {
      NetTesting.quietly("ip", "netns", "del", n); // takes its links (and their peers) with it
    }
    if (tag != null) {
      assertThat(NetTesting.sh("ip", "netns", "list")).doesNotContain("inferno-test-" + tag);
    }
  }

  void addNs(String role) throws IOException {
    NetTesting.sh("ip", "netns", "add", ns(role));
    namespaces.add(ns(role));
    inNs(role, "ip", "link", "set", "lo", "up");
  }

  String inNs(String role, String... cmd) throws IOException {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns(role)));
    full.addAll(List.of(cmd));
    return Commands.run(full, "");
  }

  /** A veth pair: hostName in "host" with hostCidr, eth0 in role with peerCidr via gateway. */
  void link(String role, String hostName, String hostCidr, String peerCidr, String gw)
      throws IOException {
    NetTesting.sh(
        "ip",
        "link",
        "add",
        hostName,
        "netns",
        ns("host"),
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns(role));
    inNs("host", "ip", "addr", "add", hostCidr, "dev", hostName);
    inNs("host", "ip", "link", "set", hostName, "up");
    inNs(role, "ip", "addr", "add", peerCidr, "dev", "eth0");
    inNs(role, "ip", "link", "set", "eth0", "up");
    inNs(role, "ip", "route", "add", "default", "via", gw);
  }

  void serve(String role, String ip, int port, String name) throws IOException {
    Process p =
        new ProcessBuilder(
                "ip",
                "netns",
                "exec",
                ns(role),
                PYTHON,
                dir.resolve("net.py").toString(),
                "serve",
                ip,
                String.valueOf(port),
                name)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    servers.add(p);
    String line =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
    assertThat(line).as("server " + name + " on " + ip + ":" + port).isEqualTo("ready");
  }

  String get(String role, String ip, int port) throws IOException {
    return inNs(role, PYTHON, dir.resolve("net.py").toString(), "get", ip, String.valueOf(port))
        .strip();
  }

  @Test
  void publishedPortsNatAndIsolationOnRealTraffic() throws Exception {
    for (String role : List.of("host", "a", "b", "out", "lan")) {
      addNs(role);
    }
    // VM a: 198.18.0.0/30, VM b: 198.18.0.4/30, uplink 198.19.0.0/30
    link("a", "inf0000000000aa", "198.18.0.1/30", "198.18.0.2/30", "198.18.0.1");
    link("b", "inf0000000000bb", "198.18.0.5/30", "198.18.0.6/30", "198.18.0.5");
    link("out", "uplink", "198.19.0.1/30", "198.19.0.2/30", "198.19.0.1");
    // a host interface that shares the TAPs' prefix but is no VM's link
    link("lan", "infra0", "198.20.0.1/30", "198.20.0.2/30", "198.20.0.1");
    inNs("host", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");

    Nftables nft = new Nftables(Nftables.Config.defaults(Ipv4Cidr.parse("198.18.0.0/16"), true));
    int a = Ipv4Cidr.parseAddress("198.18.0.2");
    int b = Ipv4Cidr.parseAddress("198.18.0.6");
    List<Nftables.Mapping> aPorts =
        List.of(new Nftables.Mapping(new PortSpec("", 8080, 80, Protocol.TCP), a));
    List<Nftables.Mapping> bPorts =
        List.of(new Nftables.Mapping(new PortSpec("198.19.0.1", 8081, 80, Protocol.TCP), b));
    Commands.run(
        List.of("ip", "netns", "exec", ns("host"), "nft", "-f", "-"),
        nft.renderTable(List.of("inf0000000000aa"), aPorts));
    Commands.run(
        List.of("ip", "netns", "exec", ns("host"), "nft", "-f", "-"),
        nft.renderAdd("inf0000000000bb", bPorts));

    serve("a", "198.18.0.2", 80, "a");
    serve("b", "198.18.0.6", 80, "b");
    serve("out", "198.19.0.2", 9000, "out");
    serve("host", "0.0.0.0", 7000, "host-service");
    serve("host", "0.0.0.0", 53, "host-dns");

    // published: the outside reaches a guest through the host's address; the source is kept
    assertThat(get("out", "198.19.0.1", 8080)).isEqualTo("a 198.19.0.2");
    assertThat(get("out", "198.19.0.1", 8081)).isEqualTo("b 198.19.0.2");
    // outbound: a guest reaches the outside, masqueraded as the host
    assertThat(get("a", "198.19.0.2", 9000)).isEqualTo("out 198.19.0.1");
    // DNS on the host is allowed, other host services are not
    assertThat(get("a", "198.18.0.1", 53)).isEqualTo("host-dns 198.18.0.2");
    assertThat(get("a", "198.18.0.1", 7000)).isEqualTo("timeout");
    assertThat(get("a", "198.19.0.1", 7000)).isEqualTo("timeout");
    // only the VMs' own links are filtered: a host interface named like them is not
    assertThat(get("lan", "198.20.0.1", 7000)).isEqualTo("host-service 198.20.0.2");
    // VM to VM is dropped, also to the other VM's published port on its own address
    assertThat(get("a", "198.18.0.6", 80)).isEqualTo("timeout");
    // the outside cannot reach a guest's address directly, only what is published
    inNs("out", "ip", "route", "add", "198.18.0.0/16", "via", "198.19.0.1");
    assertThat(get("out", "198.18.0.2", 80)).isEqualTo("timeout");

    // unpublished: the host answers for the port itself again (nothing there: refused)
    Commands.run(
        List.of("ip", "netns", "exec", ns("host"), "nft", "-f", "-"),
        nft.renderRemove("inf0000000000aa", aPorts));
    assertThat(get("out", "198.19.0.1", 8080)).isEqualTo("refused");
    assertThat(get("out", "198.19.0.1", 8081)).isEqualTo("b 198.19.0.2");
  }
}
