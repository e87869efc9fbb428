package dev.inferno.daemon.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class NftablesTest {
  static final int GUEST = Ipv4Cidr.parseAddress("172.30.0.2");
  static final int GUEST2 = Ipv4Cidr.parseAddress("172.30.0.6");

  Nftables applied;

  @AfterEach
  void removeTestTable() throws Exception {
    if (applied != null) {
      applied.deleteTable();
    }
  }

  static Nftables.Mapping map(String hostIp, int hostPort, int guestPort, Protocol p, int guest) {
    return new Nftables.Mapping(new PortSpec(hostIp, hostPort, guestPort, p), guest);
  }

  @Test
  void rendersTheWholeTableAsOneTransaction() {
    Nftables nft = new Nftables(Nftables.Config.defaults(Ipv4Cidr.parse("172.30.0.0/16"), true));
    String script =
        nft.renderTable(
            List.of("inf0123456789ab"),
            List.of(
                map("", 8080, 80, Protocol.TCP, GUEST),
                map("127.0.0.1", 5353, 53, Protocol.UDP, GUEST2),
                map("::1", 9090, 90, Protocol.TCP, GUEST)));
    assertThat(script)
        .isEqualTo(
            """
            table inet inferno
            delete table inet inferno
            table inet inferno {
              set links {
                type ifname
              }
              map published {
                type inet_proto . inet_service : ipv4_addr . inet_service
              }
              map published_ip {
                type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
              }
              chain prerouting {
                type nat hook prerouting priority dstnat; policy accept;
                meta nfproto ipv4 meta l4proto { tcp, udp } dnat ip to ip daddr . meta l4proto . th dport map @published_ip
                meta nfproto ipv4 fib daddr type local meta l4proto { tcp, udp } dnat ip to meta l4proto . th dport map @published
              }
              chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                ip saddr 172.30.0.0/16 ip daddr != 172.30.0.0/16 masquerade
              }
              chain forward {
                type filter hook forward priority filter; policy accept;
                ct state established,related accept
                iifname @links oifname @links drop
                iifname @links accept
                oifname @links ct status dnat accept
                oifname @links drop
              }
              chain input {
                type filter hook input priority filter; policy accept;
                iifname @links ct state established,related accept
                iifname @links meta l4proto { tcp, udp } th dport 53 accept
                iifname @links icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
                iifname @links drop
              }
            }
            add element inet inferno links { "inf0123456789ab" }
            add element inet inferno published { tcp . 8080 : 172.30.0.2 . 80 }
            add element inet inferno published_ip { 127.0.0.1 . udp . 5353 : 172.30.0.6 . 53 }
            """);
    // without DNS on the host, a VM gets nothing from the host but replies
    String noDns =
        new Nftables(Nftables.Config.defaults(Ipv4Cidr.parse("172.30.0.0/16"), false))
            .renderTable(List.of(), List.of());
    assertThat(noDns).doesNotContain("dport 53").doesNotContain("add element");
  }

  @Test
  void removalAddsBeforeItDeletesSoAGoneElementIsNoError() {
    Nftables nft = new Nftables(Nftables.Config.defaults(Ipv4Cidr.parse("172.30.0.0/16"), false));
    assertThat(
            nft.renderRemove(
                "inf0123456789ab", List.of(map("10.0.0.1", 80, 8080, Protocol.TCP, GUEST))))
        .isEqualTo(
            """
            add element inet inferno links { "inf0123456789ab" }
            add element inet inferno published_ip { 10.0.0.1 . tcp . 80 : 172.30.0.2 . 8080 }
            delete element inet inferno links { "inf0123456789ab" }
            delete element inet inferno published_ip { 10.0.0.1 . tcp . 80 }
            """);
    assertThatThrownBy(() -> nft.renderAdd("inf\" }; flush ruleset; #", List.of()))
        .hasMessageContaining("bad interface name");
    assertThatThrownBy(() -> map("", 0, 80, Protocol.TCP, GUEST))
        .hasMessageContaining("has no host port yet");
    assertThatThrownBy(
            () -> new Nftables.Config("Bad name", Ipv4Cidr.parse("10.0.0.0/8"), "inf", false))
        .hasMessageContaining("bad nftables table name");
  }

  /** The VM links (TAP names) of the applied table. */
  static List<String> links(Nftables nft) throws Exception {
    JsonNode root = new ObjectMapper().readTree(nft.listJson());
    List<String> out = new ArrayList<>();
    for (JsonNode item : root.get("nftables")) {
      JsonNode set = item.get("set");
      if (set != null && set.get("name").asText().equals("links") && set.get("elem") != null) {
        set.get("elem").forEach(e -> out.add(e.asText()));
      }
    }
    return out;
  }

  /** The elements of a map of the applied table, as "key : value" strings. */
  static List<String> elements(Nftables nft, String map) throws Exception {
    JsonNode root = new ObjectMapper().readTree(nft.listJson());
    List<String> out = new ArrayList<>();
    for (JsonNode item : root.get("nftables")) {
      JsonNode m = item.get("map");
      if (m == null || !m.get("name").asText().equals(map) || m.get("elem") == null) {
        continue;
      }
      for (JsonNode e : m.get("elem")) {
        out.add(concat(e.get(0)) + " : " + concat(e.get(1)));
      }
    }
    return out;
  }

  private static String concat(JsonNode n) {
    List<String> parts = new ArrayList<>();
    n.get("concat").forEach(p -> parts.add(p.asText()));
    return String.join(" . ", parts);
  }

  @Test
  void appliesRebuildsAddsAndRemovesAtomicallyInItsOwnTable() throws Exception {
    Assumptions.assumeTrue(NetTesting.isRoot(), "nftables needs root");
    String suffix = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    Nftables nft =
        new Nftables(
            new Nftables.Config(
                "inferno_test_" + suffix, Ipv4Cidr.parse("198.18.0.0/16"), "inft" + suffix, true));
    applied = nft;
    String before = NetTesting.sh("nft", "list", "tables");

    String tap1 = "inft" + suffix + "a";
    String tap2 = "inft" + suffix + "b";
    nft.rebuild(List.of(tap1), List.of(map("", 8080, 80, Protocol.TCP, GUEST)));
    assertThat(elements(nft, "published")).containsExactly("tcp . 8080 : 172.30.0.2 . 80");
    assertThat(links(nft)).containsExactly(tap1);
    assertThat(NetTesting.sh("nft", "list", "tables"))
        .contains("table inet inferno_test_" + suffix)
        .contains(before.strip());

    List<Nftables.Mapping> vm2 =
        List.of(
            map("", 5353, 53, Protocol.UDP, GUEST2),
            map("127.0.0.1", 8443, 443, Protocol.TCP, GUEST2),
            map("::1", 9999, 99, Protocol.TCP, GUEST2));
    nft.add(tap2, vm2);
    assertThat(links(nft)).containsExactlyInAnyOrder(tap1, tap2);
    assertThat(elements(nft, "published"))
        .containsExactlyInAnyOrder("tcp . 8080 : 172.30.0.2 . 80", "udp . 5353 : 172.30.0.6 . 53");
    assertThat(elements(nft, "published_ip"))
        .containsExactly("127.0.0.1 . tcp . 8443 : 172.30.0.6 . 443");

    // a host port taken by another VM's element is refused, and the transaction changes nothing
    assertThatThrownBy(() ->
            nft.add(
                "inft" + suffix + "c",
                List.of(
                    map("", 7000, 70, Protocol.TCP, GUEST),
                    map("", 8080, 81, Protocol.TCP, GUEST2))))
        .isInstanceOf(CommandException.class)
        .hasMessageStartingWith("nft -f - failed (exit 1): ")
        .hasMessageContaining("File exists");
    assertThat(elements(nft, "published")).doesNotContain("tcp . 7000 : 172.30.0.2 . 70");
    assertThat(links(nft)).containsExactlyInAnyOrder(tap1, tap2);

    nft.remove(tap2, vm2);
    nft.remove(tap2, vm2); // again: idempotent
    assertThat(elements(nft, "published")).containsExactly("tcp . 8080 : 172.30.0.2 . 80");
    assertThat(elements(nft, "published_ip")).isEmpty();
    assertThat(links(nft)).containsExactly(tap1);

    // daemon start: the table is rebuilt from the database, whatever it held
    nft.rebuild(List.of(tap2), vm2);
    assertThat(elements(nft, "published")).containsExactly("udp . 5353 : 172.30.0.6 . 53");
    assertThat(links(nft)).containsExactly(tap2);
    String listing = NetTesting.sh("nft", "list", "table", "inet", "inferno_test_" + suffix);
    assertThat(listing)
        .contains("iifname @links oifname @links drop")
        .contains("ip saddr 198.18.0.0/16 ip daddr != 198.18.0.0/16 masquerade");

    nft.deleteTable();
    nft.deleteTable(); // gone already: no error
    assertThat(NetTesting.sh("nft", "list", "tables")).doesNotContain("inferno_test_" + suffix);
    assertThat(NetTesting.sh("nft", "list", "tables").strip()).isEqualTo(before.strip());
  }
}
