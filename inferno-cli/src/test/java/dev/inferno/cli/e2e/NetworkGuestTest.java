package dev.inferno.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.inferno.model.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Networking end to end on real guests: the real daemon ({@code inferno server}, its nftables
 * table, TAPs and proxies, named apart from a real daemon's by {@link Inferno#startKiln}'s config),
 * QEMU (TCG) with a virtio-net NIC on the TAP, the real kernel and init configuring eth0. busybox
 * httpd in a VM answers through published ports on loopback and on the host's own address; {@code
 * -P} publishes an image's EXPOSE; a network namespace plays "the outside" (veth, an HTTP server,
 * dnsmasq) which a guest reaches by name through NAT, seen with the host's address; VMs reach
 * neither each other nor host services; {@code --network none} has only lo; a published port
 * survives a daemon restart; {@code rm -f} and 30 run/rm cycles leave no device, element or proxy.
 * Needs root, build/kernel and build/init.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkGuestTest {
  static final String IMAGE = "local/busybox:1";
  static final String EXPOSING = "local/exposing:1";
  static final String NS = "inferno-test-out";
  static final String OUTSIDE = "198.51.100.2";
  static final String HOST_ON_OUTSIDE = "198.51.100.1";
  static final String HTTPD =
      "mkdir -p /www && echo hello-from-vm > /www/index.html && exec httpd -f -p 80 -h /www";

  @TempDir static Path dir;
  Inferno inferno;
  final List<Process> outside = new ArrayList<>();
  HttpServer hostService;

  @BeforeAll
  void start() throws Exception {
    startOutside();
    hostService = HttpServer.create(new InetSocketAddress(0), 0);
    hostService.createContext(
        "/",
        ex -> {
          byte[] b = "host-service\n".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, b.length);
          ex.getResponseBody().write(b);
          ex.close();
        });
    hostService.start();
    inferno = Inferno.startGuests(dir, "");

    Path layout = dir.resolve("layout");
    sh(Inferno.ROOT.resolve("scripts/make-busybox-image.sh").toString(), layout.toString());
    load(layout, IMAGE);
    // the same image with EXPOSE 80/tcp, as `docker build` would write it
    sh(
        "umoci",
        "config",
        "--image",
        layout + ":latest",
        "--config.exposedports",
        "80/tcp",
        "--config.exposedports",
        "7/udp");
    load(layout, EXPOSING);
  }

  private void load(Path layout, String name) throws Exception {
    Path tar = dir.resolve(name.replaceAll("[/:]", "_") + ".tar");
    sh("skopeo", "copy", "-q", "oci:" + layout + ":latest", "docker-archive:" + tar + ":" + name);
    var load = inferno.run("load", "-i", tar.toString());
    assertThat(load.code()).as(load.toString()).isZero();
  }

  /**
   * "The outside": a namespace behind a veth with an HTTP server (a CGI echoing the client) and
   * dnsmasq.
   */
  private void startOutside() throws Exception {
    stopOutsideQuietly();
    sh("ip", "netns", "add", NS);
    // named apart from every TAP prefix ("inf", the test daemons' "ift" and "ie"): their tables'
    // rules match interface names by prefix
    sh("ip", "link", "add", "vethout0", "type", "veth", "peer", "name", "vethout1");
    sh("ip", "link", "set", "vethout1", "netns", NS);
    sh("ip", "addr", "add", HOST_ON_OUTSIDE + "/24", "dev", "vethout0");
    sh("ip", "link", "set", "vethout0", "up");
    sh("ip", "netns", "exec", NS, "ip", "addr", "add", OUTSIDE + "/24", "dev", "vethout1");
    sh("ip", "netns", "exec", NS, "ip", "link", "set", "vethout1", "up");
    sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up");
    Path www = dir.resolve("outside-www");
    Files.createDirectories(www.resolve("cgi-bin"));
    Files.writeString(www.resolve("index.html"), "outside-page\n");
    Path cgi = www.resolve("cgi-bin/ip");
    Files.writeString(
        cgi, "#!/bin/sh\necho Content-Type: text/plain\necho\necho \"$REMOTE_ADDR\"\n");
    Files.setPosixFilePermissions(cgi, PosixFilePermissions.fromString("rwxr-xr-x"));
    outside.add(
        new ProcessBuilder(
                "ip",
                "netns",
                "exec",
                NS,
                "busybox",
                "httpd",
                "-f",
                "-p",
                OUTSIDE + ":80",
                "-h",
                www.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("outside-httpd.log").toFile())
            .start());
    outside.add(
        new ProcessBuilder(
                "ip",
                "netns",
                "exec",
                NS,
                "dnsmasq",
                "--no-daemon",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=" + OUTSIDE,
                "--address=/outside.test/" + OUTSIDE,
                "--pid-file=" + dir.resolve("dnsmasq.pid"))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("dnsmasq.log").toFile())
            .start());
    awaitBody("http://" + OUTSIDE + "/", "outside-page");
  }

  private static void stopOutsideQuietly() {
    quietly("ip", "netns", "del", NS);
    quietly("ip", "link", "del", "vethout0");
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (inferno != null) {
        for (String id : inferno.run("ps", "-a", "-q").out().lines().toList()) {
          inferno.run("rm", "-f", id);
        }
        inferno.close();
      }
    } finally {
      if (hostService != null) {
        hostService.stop(0);
      }
      for (Process p : outside) {
        p.destroy();
        p.waitFor();
      }
      stopOutsideQuietly();
    }
  }

  @Test
  @Order(1)
  void publishedPortsAnswerOnLoopbackAndTheHostsAddressAndSurviveADaemonRestart() throws Exception {
    int h = Inferno.freePort();
    int h2 = Inferno.freePort(h);
    var r =
        inferno.run(
            "run",
            "-d",
            "--name",
            "web",
            "-p",
            "127.0.0.1:" + h + ":80",
            "-p",
            h2 + ":80",
            IMAGE,
            "sh",
            "-c",
            HTTPD);
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(awaitBody("http://127.0.0.1:" + h + "/", "hello-from-vm")).isTrue();
    String hostIp = hostAddress();
    assertThat(get("http://" + hostIp + ":" + h2 + "/")).isEqualTo("hello-from-vm\n");
    assertThat(get("http://127.0.0.1:" + h2 + "/")).isEqualTo("hello-from-vm\n");
    assertThat(get("http://" + hostIp + ":" + h + "/")).as("published on 127.0.0.1 only").isNull();

    var port = inferno.run("port", "web");
    assertThat(port.out().lines().toList())
        .containsExactly("80/tcp -> 127.0.0.1:" + h, "80/tcp -> 0.0.0.0:" + h2);
    assertThat(inferno.run("ps").out())
        .contains("127.0.0.1:" + h + "->80/tcp, 0.0.0.0:" + h2 + "->80/tcp");
    Map<?, ?> net = networkSettings("web");
    assertThat((String) net.get("ipAddress")).startsWith("10.214.");
    assertThat(nft()).contains("tcp . " + h2 + " : " + net.get("ipAddress") + " . 80");

    // the daemon dies (kill -9) and comes back: the VM runs on, its ports are published again
    inferno.killDaemon();
    assertThat(get("http://127.0.0.1:" + h + "/")).as("no proxy while the daemon is down").isNull();
    inferno.startDaemon();
    assertThat(get("http://127.0.0.1:" + h + "/")).isEqualTo("hello-from-vm\n");
    assertThat(get("http://" + hostIp + ":" + h2 + "/")).isEqualTo("hello-from-vm\n");
  }

  @Test
  @Order(2)
  void vmsReachNeitherEachOtherNorHostServices() throws Exception {
    String a = (String) networkSettings("web").get("ipAddress");
    int service = hostService.getAddress().getPort();
    assertThat(get("http://127.0.0.1:" + service + "/")).isEqualTo("host-service\n");
    // nc, not wget: busybox-static's wget crashes in a bare image (static glibc's NSS); the
    // outside is the control that shows the probe can succeed
    String probe =
        "gw=$(ip route | awk '/default/ {print $3}'); echo gw=$gw;"
            + " nc -w 5 "
            + OUTSIDE
            + " 80 </dev/null && echo REACHED-OUTSIDE;"
            + " nc -w 5 "
            + a
            + " 80 </dev/null && echo REACHED-VM;"
            + " nc -w 5 $gw "
            + service
            + " </dev/null && echo REACHED-HOST;"
            + " echo probed";
    var r = inferno.run("run", "--rm", IMAGE, "sh", "-c", probe);
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out())
        .as(r.toString())
        .contains("gw=10.214.")
        .contains("REACHED-OUTSIDE")
        .contains("probed")
        .doesNotContain("REACHED-VM")
        .doesNotContain("REACHED-HOST");
  }

  @Test
  @Order(3)
  void rmForceLeavesNoDeviceElementOrProxy() throws Exception {
    Map<?, ?> net = networkSettings("web");
    String device = (String) net.get("device");
    List<?> ports = (List<?>) net.get("ports");
    assertThat(Path.of("/sys/class/net", device)).exists();
    assertThat(inferno.run("rm", "-f", "web").code()).isZero();
    assertThat(Path.of("/sys/class/net", device)).doesNotExist();
    assertThat(nft()).doesNotContain((String) net.get("ipAddress"));
    for (Object p : ports) {
      int hostPort = ((Number) ((Map<?, ?>) p).get("hostPort")).intValue();
      try (ServerSocket again = new ServerSocket(hostPort)) {
        assertThat(again.getLocalPort()).as("proxy gone").isEqualTo(hostPort);
      }
    }
  }

  @Test
  @Order(4)
  void publishAllTakesTheImagesExpose() throws Exception {
    var r = inferno.run("run", "-d", "--name", "exp", "-P", EXPOSING, "sh", "-c", HTTPD);
    assertThat(r.code()).as(r.toString()).isZero();
    List<String> lines = inferno.run("port", "exp").out().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines).anyMatch(l -> l.matches("80/tcp -> 0\\.0\\.0\\.0:[0-9]+"));
    assertThat(lines).anyMatch(l -> l.matches("7/udp -> 0\\.0\\.0\\.0:[0-9]+"));
    String host = inferno.run("port", "exp", "80/tcp").out().strip();
    assertThat(
            awaitBody(
                "http://127.0.0.1:" + host.substring(host.indexOf(':') + 1) + "/", "hello-from-vm"))
        .isTrue();
    assertThat(inferno.run("rm", "-f", "exp").code()).isZero();
  }

  @Test
  @Order(5)
  void outboundByNameThroughNatSeenWithTheHostsAddress() throws Exception {
    // busybox-static's wget crashes in a bare image (static glibc's NSS): the name is resolved
    // with busybox's own resolver (its query goes through NAT too) and the page fetched with nc
    String script =
        "hostname; cat /etc/hosts /etc/resolv.conf;"
            + " addr=$(nslookup outside.test | awk '/^Address/ {a=$NF} END {print a}');"
            + " echo resolved=$addr;"
            + " printf 'GET /cgi-bin/ip HTTP/1.0\\r\\nHost: outside.test\\r\\n\\r\\n'"
            + " | nc -w 20 $addr 80 | tail -n 1";
    var r =
        inferno.run(
            "run",
            "--rm",
            "--dns",
            OUTSIDE,
            "--hostname",
            "web1",
            "--add-host",
            "db:10.0.0.5",
            IMAGE,
            "sh",
            "-c",
            script);
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out())
        .startsWith("web1\n")
        .contains("10.0.0.5 db")
        .contains("nameserver " + OUTSIDE)
        .contains("resolved=" + OUTSIDE + "\n")
        .endsWith("\n" + HOST_ON_OUTSIDE + "\n");
    assertThat(r.out()).containsPattern("10\\.214\\.[0-9]+\\.[0-9]+\\s+web1");
  }

  @Test
  @Order(6)
  void networkNoneHasOnlyLo() throws Exception {
    var r = inferno.run("run", "--rm", "--network", "none", IMAGE, "ls", "/sys/class/net");
    assertThat(r.code()).as(r.toString()).isZero();
    // sit0 is the kernel's own IPv6-in-IPv4 tunnel device (CONFIG_IPV6_SIT), down and unaddressed
    assertThat(r.out().lines().filter(l -> !l.equals("sit0"))).containsExactly("lo");
  }

  @Test
  @Order(7)
  void thirtyRunRmCyclesLeaveLinksAndTheTableAsTheyWere() throws Exception {
    String links = links();
    String table = nft();
    for (int i = 0; i < 30; i++) {
      var r = inferno.run("run", "-d", "-p", "80", IMAGE, "sleep", "100");
      assertThat(r.code()).as(r.toString()).isZero();
      var rm = inferno.run("rm", "-f", r.out().strip());
      assertThat(rm.code()).as(rm.toString()).isZero();
    }
    assertThat(links()).isEqualTo(links);
    assertThat(nft()).isEqualTo(table);
  }

  private Map<?, ?> networkSettings(String vm) throws Exception {
    var r = inferno.run("inspect", vm);
    assertThat(r.code()).as(r.toString()).isZero();
    Map<?, ?> m = (Map<?, ?>) ((List<?>) Json.parse(r.out())).getFirst();
    return (Map<?, ?>) m.get("networkSettings");
  }

  /** The host's first global IPv4 address (not loopback). */
  static String hostAddress() throws Exception {
    for (String l : sh("ip", "-4", "-o", "addr", "show", "scope", "global").lines().toList()) {
      String[] f = l.trim().split("\\s+");
      String a = f[3].substring(0, f[3].indexOf('/'));
      if (!a.equals(HOST_ON_OUTSIDE)) {
        return a;
      }
    }
    throw new AssertionError("the host has no global IPv4 address");
  }

  static String nft() throws Exception {
    return sh("nft", "list", "table", "inet", Inferno.NFT_TABLE);
  }

  /**
   * The host's links, but not another daemon's TAPs (a TAP whose name lacks this daemon's prefix: a
   * real or scratch daemon on the same host may start and stop VMs meanwhile). This daemon's TAPs
   * and every other kind of link are all there, so whatever it leaves behind shows.
   */
  static String links() throws Exception {
    return String.join(
        "\n",
        sh("ip", "-o", "link")
            .lines()
            .map(l -> l.split(":\\s+")[1])
            .filter(name ->
                name.startsWith(Inferno.TAP_PREFIX)
                    || !Files.exists(
                        Path.of("/sys/class/net", name.replaceAll("@.*", ""), "tun_flags")))
            .sorted()
            .toList());
  }

  /** The body of a GET, or null when it cannot be had. */
  static String get(String url) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
      c.setConnectTimeout(3000);
      c.setReadTimeout(5000);
      try (InputStream in = c.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return null;
    }
  }

  /** Waits (a guest boots under TCG) until the page has the text. */
  static boolean awaitBody(String url, String text) throws InterruptedException {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline) {
      String b = get(url);
      if (b != null && b.contains(text)) {
        return true;
      }
      Thread.sleep(250);
    }
    throw new AssertionError(url + " never answered with " + text);
  }

  static String sh(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    return out;
  }

  static void quietly(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      p.waitFor();
    } catch (IOException | InterruptedException e) {
      // already gone
    }
  }
}
