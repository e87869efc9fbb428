package dev.inferno.daemon.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.inferno.daemon.Daemon;
import dev.inferno.daemon.api.ApiJson;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.backend.GuestNic;
import dev.inferno.daemon.network.Ipv4Cidr;
import dev.inferno.daemon.network.Nftables;
import dev.inferno.daemon.network.TapDevices;
import dev.inferno.daemon.network.VmNetworks;
import dev.inferno.daemon.store.Database;
import dev.inferno.daemon.store.VmNetwork;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.store.VmStore;
import dev.inferno.daemon.testing.MemoryImageBackend;
import dev.inferno.daemon.testing.ProcessVmBackend;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.daemon.testing.TestNetworks;
import dev.inferno.model.PublishedPort;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's side of a VM's network with real TAPs, a real nftables table and real proxies (as
 * root; test names: {@code ift…} devices, this JVM's own table, pool 10.213.0.0/16), the VMs being
 * host processes: allocation, rollback when a port is taken, release at exit and removal, the
 * rebuild at daemon start, and every bad input refused before anything exists.
 */
class VmNetworkingTest {
  @TempDir Path dir;
  Database db;
  final ProcessVmBackend backend = new ProcessVmBackend();
  final MemoryImageBackend images =
      new MemoryImageBackend().publish("busybox", List.of("sh")).publish("web", List.of("sh"));
  VmService vms;

  @BeforeEach
  void setUp() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "TAPs and nftables need root");
    TestNetworks.cleanUp();
    db = Database.open(dir.resolve("db"));
    vms = service(TestNetworks.settings());
    vms.restoreNetworks();
  }

  VmService service(VmNetworks.Settings settings) {
    VmStore store = new VmStore(db, ApiJson.mapper());
    return new VmService(
        store,
        images,
        backend,
        new EventBus(),
        new Defaults(1, 256L << 20, "auto", 2),
        new VmNetworks(store, settings));
  }

  @AfterEach
  void tearDown() throws Exception {
    backend.killAll();
    if (vms != null) {
      vms.networks().close();
    }
    if (db != null) {
      db.close();
    }
    TestNetworks.cleanUp();
  }

  static RunRequest sleeper(String name, String... ports) {
    return RunRequest.builder("busybox")
        .cmd(List.of("sleep", "100"))
        .name(name)
        .ports(List.of(ports))
        .dns(List.of("192.0.2.53"))
        .build();
  }

  static String table() throws IOException {
    return sh("nft", "list", "table", "inet", TestNetworks.table());
  }

  static String sh(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) {
        throw new IOException(String.join(" ", cmd) + ": " + out);
      }
    } catch (InterruptedException e) {
      throw new IOException(e);
    }
    return out;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Whether something accepts on 127.0.0.1:port. */
  static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  VmNetwork network(String vm) {
    return vms.store().network(vms.resolve(vm).id()).orElseThrow();
  }

  @Test
  void aVmGetsItsOwnSlotTapMacAndPublishedPorts() throws Exception {
    int fixed = freePort();
    backend.tapOwner(new GuestNic.Owner(4242, 4343));
    var a = vms.create(sleeper("vma", "127.0.0.1:" + fixed + ":80", "127.0.0.1::81/udp"), false);
    var b = vms.create(sleeper("vmb"), false);
    VmNetwork na = network("vma");
    VmNetwork nb = network("vmb");
    assertThat(na.subnet()).isEqualTo("10.213.0.0/30");
    assertThat(nb.subnet()).as("the next free /30").isEqualTo("10.213.0.4/30");
    assertThat(na.device()).isEqualTo("ift" + a.vm().id().substring(0, 12));
    assertThat(na.mac()).startsWith("02:").isNotEqualTo(nb.mac());
    assertThat(TapDevices.exists(na.device())).isTrue();
    // owned by whom the backend says the VMM runs as (the jailed Firecracker's uid)
    assertThat(sh("cat", "/sys/class/net/" + na.device() + "/owner").strip()).isEqualTo("4242");
    assertThat(sh("cat", "/sys/class/net/" + na.device() + "/group").strip()).isEqualTo("4343");
    assertThat(sh("ip", "-4", "addr", "show", "dev", na.device())).contains("10.213.0.1/30");
    // the random host port is the bound one, recorded
    assertThat(na.ports()).hasSize(2);
    assertThat(na.ports().get(0)).isEqualTo(new PublishedPort("127.0.0.1", fixed, 80, "tcp"));
    PublishedPort udp = na.ports().get(1);
    assertThat(udp.hostPort()).isPositive();
    assertThat(udp.protocol()).isEqualTo("udp");
    // DNAT elements in the table, the proxy on the host port
    assertThat(table())
        .contains("127.0.0.1 . tcp . " + fixed + " : 10.213.0.2 . 80")
        .contains("127.0.0.1 . udp . " + udp.hostPort() + " : 10.213.0.2 . 81");
    assertThat(listening(fixed)).isTrue();
    // what the guest is told
    assertThat(b.vm().request().dns()).containsExactly("192.0.2.53");
    assertThat(b.vm().request().network()).isEqualTo("default");
  }

  @Test
  void aTakenHostPortIsAConflictAndLeavesNothing() throws Exception {
    int first = freePort();
    String before = table();
    List<String> tapsBefore = TapDevices.list(TestNetworks.PREFIX);
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertThatThrownBy(() ->
              vms.create(
                  sleeper("clash", "127.0.0.1:" + first + ":80", "127.0.0.1:" + port + ":81"),
                  false))
          .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
          .hasMessageContaining("port " + port + " on 127.0.0.1 is already in use");
    }
    assertThat(vms.list(true)).as("no record").isEmpty();
    assertThat(backend.releasedTapOwners()).as("the VMM identity given back").hasSize(1);
    assertThat(vms.store().networks()).as("no allocation").isEmpty();
    assertThat(TapDevices.list(TestNetworks.PREFIX)).as("no device").isEqualTo(tapsBefore);
    assertThat(table()).as("no element").isEqualTo(before);
    assertThat(listening(first)).as("the port bound first is free again").isFalse();
    try (ServerSocket again = new ServerSocket(first, 1, InetAddress.getLoopbackAddress())) {
      assertThat(again.getLocalPort()).isEqualTo(first);
    }
  }

  @Test
  void portsAndTapGoAtExitTheAddressAtRemoval() throws Exception {
    int port = freePort();
    var r =
        vms.create(
            RunRequest.builder("busybox")
                .cmd(List.of("sh", "-c", "sleep 0.5"))
                .name("short")
                .ports(List.of("127.0.0.1:" + port + ":80"))
                .build(),
            false);
    String device = network("short").device();
    assertThat(listening(port)).isTrue();
    vms.await("short");
    assertThat(vms.resolve("short").state()).isEqualTo(VmState.EXITED);
    assertThat(listening(port)).as("the proxy is closed").isFalse();
    assertThat(TapDevices.exists(device)).as("the TAP is gone").isFalse();
    assertThat(table()).doesNotContain("tcp . " + port + " :");
    VmNetwork kept = network("short");
    assertThat(kept.ports()).as("ports released").isEmpty();
    assertThat(kept.subnet()).as("the address is kept until rm").isEqualTo("10.213.0.0/30");

    // the next VM cannot have it; after rm it is free again
    vms.create(sleeper("next"), false);
    assertThat(network("next").subnet()).isEqualTo("10.213.0.4/30");
    vms.remove(r.vm().id(), false);
    assertThat(vms.store().network(r.vm().id())).isEmpty();
    vms.create(sleeper("reuse"), false);
    assertThat(network("reuse").subnet()).isEqualTo("10.213.0.0/30");

    // rm -f of a running VM releases everything at once
    String reuse = network("reuse").device();
    vms.remove("reuse", true);
    assertThat(TapDevices.exists(reuse)).isFalse();
    assertThat(vms.store().networks())
        .extracting(VmNetwork::subnet)
        .containsExactly("10.213.0.4/30");
  }

  @Test
  void aVmStartedAgainKeepsItsAddressAndGetsItsTapAndPortsBack() throws Exception {
    int port = freePort();
    vms.create(
        RunRequest.builder("busybox")
            .cmd(List.of("sh", "-c", "sleep 0.5"))
            .name("again")
            .ports(List.of("127.0.0.1:" + port + ":80"))
            .build(),
        false);
    VmNetwork first = network("again");
    vms.await("again");
    assertThat(TapDevices.exists(first.device())).isFalse();

    vms.start("again");
    VmNetwork second = network("again");
    assertThat(second.subnet()).as("the same address").isEqualTo(first.subnet());
    assertThat(second.mac()).isEqualTo(first.mac());
    assertThat(TapDevices.exists(second.device())).as("its TAP again").isTrue();
    assertThat(second.ports()).extracting(p -> p.hostPort()).containsExactly(port);
    assertThat(listening(port)).as("its port published again").isTrue();
    assertThat(table()).contains("tcp . " + port + " :");
    vms.await("again");
    assertThat(listening(port)).isFalse();
  }

  @Test
  void daemonStartRebuildsTheTableRebindsPortsAndRemovesLeftovers() throws Exception {
    int port = freePort();
    vms.create(sleeper("keep", "127.0.0.1:" + port + ":80"), false);
    VmRecord keep = vms.resolve("keep");
    VmNetwork net = network("keep");
    // the daemon goes away: proxies close, and while it is down the table is lost, a device of
    // a VM that is gone is left over and a removed VM's allocation is still recorded
    vms.networks().close();
    assertThat(listening(port)).isFalse();
    new Nftables(TestNetworks.settings().nft()).deleteTable();
    TapDevices.create(
        new TapDevices.Tap("iftdeadbeef0000", Ipv4Cidr.parse("10.213.1.0/30"), 1500, 0, 0));
    // a device that only shares the prefix (another tool's, a test's) is not the daemon's
    TapDevices.create(
        new TapDevices.Tap("iftxother", Ipv4Cidr.parse("198.18.250.0/30"), 1500, 0, 0));
    vms.store()
        .insertNetwork(
            new VmNetwork(
                "gone", "iftgone", "10.213.2.0/30", "02:00:00:00:00:01", 1500, List.of()));

    VmService restarted = service(TestNetworks.settings());
    restarted.reconcile();
    List<String> report = restarted.restoreNetworks();
    vms = restarted;

    assertThat(table()).contains("127.0.0.1 . tcp . " + port + " : 10.213.0.2 . 80");
    assertThat(listening(port)).as("published again").isTrue();
    assertThat(TapDevices.exists(net.device())).isTrue();
    assertThat(TapDevices.exists("iftdeadbeef0000")).as("leftover removed").isFalse();
    assertThat(TapDevices.exists("iftxother")).as("not the daemon's: kept").isTrue();
    TapDevices.delete("iftxother");
    assertThat(restarted.store().network("gone")).as("orphan allocation released").isEmpty();
    assertThat(report)
        .anyMatch(l -> l.contains("removed network device iftdeadbeef0000"))
        .anyMatch(l -> l.contains("released the address of removed VM gone"));
    assertThat(restarted.resolve(keep.id()).state()).isEqualTo(VmState.RUNNING);
  }

  @Test
  void aPoolOverlappingAHostRouteStopsTheDaemonsStart() throws Exception {
    sh("ip", "link", "add", "poolclash0", "type", "veth", "peer", "name", "poolclash1");
    try {
      sh("ip", "addr", "add", "10.214.3.1/24", "dev", "poolclash0");
      sh("ip", "link", "set", "poolclash0", "up");
      var s = TestDaemon.config(dir.resolve("d"), "1m");
      var clash =
          new VmNetworks.Settings(
              new Nftables.Config(
                  TestNetworks.table(), Ipv4Cidr.parse("10.214.0.0/16"), "ift", false),
              1500);
      assertThatThrownBy(
              () -> Daemon.start(s, images, backend, PeerPolicy.ALLOW_ALL, clash).close())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(
              "network-pool 10.214.0.0/16 overlaps the host's route to 10.214.3.0/24 on"
                  + " poolclash0");
      assertThat(dir.resolve("d/inferno.sock")).as("it never served").doesNotExist();
    } finally {
      sh("ip", "link", "del", "poolclash0");
    }
  }

  @Test
  void anExhaustedPoolIsAConflictAndLeavesNothing() throws Exception {
    vms.networks().close();
    TestNetworks.cleanUp();
    var tiny =
        new VmNetworks.Settings(
            new Nftables.Config(
                TestNetworks.table(), Ipv4Cidr.parse("10.213.9.0/30"), "ift", false),
            1500);
    vms = service(tiny);
    vms.restoreNetworks();
    vms.create(sleeper("only"), false);
    assertThatThrownBy(() -> vms.create(sleeper("more"), false))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("network pool 10.213.9.0/30 is exhausted");
    assertThat(vms.list(true)).extracting(VmRecord::name).containsExactly("only");
    // --network none needs no address
    vms.create(sleeper("none").toBuilder().network("none").build(), false);
    assertThat(vms.store().network(vms.resolve("none").id())).isEmpty();
  }

  @Test
  void badNetworkInputIsRefusedBeforeAnythingExists() throws Exception {
    String before = table();
    Map<RunRequest, String> bad =
        Map.ofEntries(
            Map.entry(sleeper("p0", "0"), "port 0 is out of range"),
            Map.entry(sleeper("pbig", "8080:70000"), "port 70000 is out of range"),
            Map.entry(sleeper("pbad", "80/sctp"), "sctp is not supported"),
            Map.entry(sleeper("pname", "localhost:8080:80"), "is not an IPv4 address"),
            Map.entry(
                sleeper("host").toBuilder().network("host").build(), "cannot share the host's"),
            Map.entry(
                sleeper("nosuch").toBuilder().network("mynet").build(),
                "unknown network \"mynet\""),
            Map.entry(
                sleeper("noneports").toBuilder().ports(List.of("80")).network("none").build(),
                "--network none and publishing ports"),
            Map.entry(
                sleeper("dns").toBuilder().dns(List.of("dns.google")).build(),
                "invalid --dns \"dns.google\""),
            Map.entry(sleeper("hn").toBuilder().hostname("bad_host!").build(), "invalid hostname"),
            Map.entry(
                sleeper("ah").toBuilder().extraHosts(List.of("db")).build(),
                "invalid --add-host \"db\""),
            Map.entry(
                sleeper("notmine", "192.0.2.77:" + freePort() + ":80"),
                "is it an address of this host?"));
    for (var e : bad.entrySet()) {
      assertThatThrownBy(() -> vms.create(e.getKey(), false))
          .as(e.getKey().name())
          .isInstanceOfSatisfying(ApiException.class, x -> assertThat(x.status()).isEqualTo(400))
          .hasMessageContaining(e.getValue());
    }
    assertThat(vms.list(true)).isEmpty();
    assertThat(vms.store().networks()).isEmpty();
    assertThat(TapDevices.list(TestNetworks.PREFIX)).isEmpty();
    assertThat(table()).isEqualTo(before);
  }

  @Test
  void publishAllTakesTheImagesExposedPorts() throws Exception {
    images.publish("exposing", List.of("sh"), List.of("80/tcp", "53/udp"));
    var r =
        vms.create(
            RunRequest.builder("exposing")
                .cmd(List.of("sleep", "100"))
                .ports(List.of("127.0.0.1::8080"))
                .publishAll(true)
                .hostname("web1")
                .extraHosts(List.of("db:10.0.0.5"))
                .build(),
            false);
    assertThat(vms.store().network(r.vm().id()).orElseThrow().ports())
        .extracting(PublishedPort::privatePort)
        .containsExactly("8080/tcp", "80/tcp", "53/udp");
    assertThat(r.vm().request().hostname()).isEqualTo("web1");
    assertThat(backend.lastSpec().hostname()).isEqualTo("web1");
    assertThat(backend.lastSpec().hosts()).containsExactly("10.0.0.5 db");
    assertThat(backend.lastSpec().nic().address()).isEqualTo("10.213.0.2/30");
    assertThat(backend.lastSpec().nic().gateway()).isEqualTo("10.213.0.1");
  }
}
