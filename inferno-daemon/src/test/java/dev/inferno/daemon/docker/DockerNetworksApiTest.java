package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.daemon.testing.TestNetworks;
import dev.inferno.model.http.UnixHttpClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker network ls|inspect} on the Docker socket, against a daemon with real networking
 * (TAPs, the test pool): the two pre-defined networks in dockerd's shape, the running VMs with the
 * addresses container inspect shows, dockerd's filters, and every change refused.
 */
class DockerNetworksApiTest {
  @TempDir Path dir;
  TestDaemon d;
  final ObjectMapper json = new ObjectMapper();

  @BeforeEach
  void setUp() throws Exception {
    d = new TestDaemon(dir, PeerPolicy.ALLOW_ALL);
  }

  @AfterEach
  void tearDown() throws Exception {
    d.close();
  }

  JsonNode expect(int status, String method, String path, String body) throws Exception {
    UnixHttpClient.Response r = d.docker(method, path, body);
    String text = r.text();
    assertThat(r.status()).as(method + " " + path + ": " + text).isEqualTo(status);
    return json.readTree(text);
  }

  String refused(int status, String method, String path, String body) throws Exception {
    return expect(status, method, path, body).get("message").asText();
  }

  /** The names a filtered list answers. */
  List<String> names(String filters) throws Exception {
    JsonNode l =
        expect(
            200,
            "GET",
            "/networks?filters=" + URLEncoder.encode(filters, StandardCharsets.UTF_8),
            null);
    List<String> out = new ArrayList<>();
    l.forEach(n -> out.add(n.get("Name").asText()));
    return out;
  }

  String run(String name, String hostConfig) throws Exception {
    d.pull("busybox");
    String body =
        "{\"Image\":\"busybox\",\"Cmd\":[\"sleep\",\"60\"]"
            + (hostConfig.isEmpty() ? "" : ",\"HostConfig\":" + hostConfig)
            + "}";
    String id = expect(201, "POST", "/containers/create?name=" + name, body).get("Id").asText();
    assertThat(d.docker("POST", "/containers/" + id + "/start", null).status()).isEqualTo(204);
    return id;
  }

  @Test
  void listsTheDefaultNetworkAndNoneInDockersShape() throws Exception {
    JsonNode l = expect(200, "GET", "/v1.44/networks", null);
    assertThat(l.size()).isEqualTo(2);
    JsonNode bridge = l.get(0);
    JsonNode none = l.get(1);
    assertThat(bridge.get("Name").asText()).isEqualTo("bridge");
    assertThat(bridge.get("Driver").asText()).isEqualTo("bridge");
    assertThat(bridge.get("Scope").asText()).isEqualTo("local");
    assertThat(bridge.get("Id").asText()).matches("[0-9a-f]{64}");
    assertThat(bridge.get("Created").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    assertThat(bridge.get("EnableIPv6").asBoolean()).isFalse();
    assertThat(bridge.get("Internal").asBoolean()).isFalse();
    assertThat(bridge.get("Attachable").asBoolean()).isFalse();
    assertThat(bridge.get("Ingress").asBoolean()).isFalse();
    assertThat(bridge.at("/IPAM/Driver").asText()).isEqualTo("default");
    // the pool, and no one gateway: each VM's is the .1 of its own /30
    assertThat(bridge.at("/IPAM/Config").size()).isEqualTo(1);
    assertThat(bridge.at("/IPAM/Config/0/Subnet").asText()).isEqualTo(TestNetworks.POOL.toString());
    assertThat(bridge.at("/IPAM/Config/0").has("Gateway")).isFalse();
    assertThat(bridge.at("/Options/com.docker.network.bridge.default_bridge").asText())
        .isEqualTo("true");
    assertThat(bridge.at("/Options/com.docker.network.bridge.enable_icc").asText())
        .isEqualTo("false");
    assertThat(bridge.at("/Options/com.docker.network.driver.mtu").asText()).isEqualTo("1500");
    assertThat(bridge.get("Labels").isObject()).isTrue();
    assertThat(bridge.get("Labels").size()).isZero();
    assertThat(bridge.get("Containers").size()).isZero();

    assertThat(none.get("Name").asText()).isEqualTo("none");
    assertThat(none.get("Driver").asText()).isEqualTo("null");
    assertThat(none.get("Id").asText())
        .matches("[0-9a-f]{64}")
        .isNotEqualTo(bridge.get("Id").asText());
    assertThat(none.at("/IPAM/Config").isArray()).isTrue();
    assertThat(none.at("/IPAM/Config").size()).isZero();
    assertThat(none.get("Options").size()).isZero();

    // the same ids on every call, and for inspect by name
    assertThat(expect(200, "GET", "/networks/bridge", null).get("Id")).isEqualTo(bridge.get("Id"));
    assertThat(expect(200, "GET", "/networks", null).get(1).get("Id")).isEqualTo(none.get("Id"));
  }

  @Test
  void idsAreStableAcrossARestartOfTheDaemon() throws Exception {
    String before = expect(200, "GET", "/networks/bridge", null).get("Id").asText();
    d.close();
    d = new TestDaemon(dir, PeerPolicy.ALLOW_ALL);
    assertThat(expect(200, "GET", "/networks/bridge", null).get("Id").asText()).isEqualTo(before);
  }

  @Test
  void filtersAsDockerd() throws Exception {
    String bridgeId = expect(200, "GET", "/networks/bridge", null).get("Id").asText();
    assertThat(names("{}")).containsExactly("bridge", "none");
    assertThat(names("{\"name\":[\"bri\"]}")).containsExactly("bridge"); // a regexp found in it
    assertThat(names("{\"name\":[\"^none$\"]}")).containsExactly("none");
    assertThat(names("{\"name\":[\"bridge\",\"none\"]}")).containsExactly("bridge", "none");
    assertThat(names("{\"name\":{\"nope\":true}}")).isEmpty(); // the old map form
    assertThat(names("{\"id\":[\"" + bridgeId.substring(0, 10) + "\"]}")).containsExactly("bridge");
    assertThat(names("{\"driver\":[\"null\"]}")).containsExactly("none");
    assertThat(names("{\"driver\":[\"bridge\"]}")).containsExactly("bridge");
    assertThat(names("{\"driver\":[\"overlay\"]}")).isEmpty();
    assertThat(names("{\"type\":[\"builtin\"]}")).containsExactly("bridge", "none");
    assertThat(names("{\"type\":[\"custom\"]}")).isEmpty();
    assertThat(names("{\"scope\":[\"local\"]}")).containsExactly("bridge", "none");
    assertThat(names("{\"scope\":[\"swarm\"]}")).isEmpty();
    assertThat(names("{\"label\":[\"a\"]}")).isEmpty(); // no network has labels
    assertThat(names("{\"dangling\":[\"false\"]}")).containsExactly("bridge", "none");
    assertThat(names("{\"dangling\":[\"true\"]}")).isEmpty(); // pre-defined: never dangling
    assertThat(names("{\"name\":[\"none\"],\"driver\":[\"bridge\"]}")).isEmpty(); // keys all apply

    String f = URLEncoder.encode("{\"type\":[\"mine\"]}", StandardCharsets.UTF_8);
    assertThat(refused(400, "GET", "/networks?filters=" + f, null)).contains("type=mine");
    f = URLEncoder.encode("{\"dangling\":[\"maybe\"]}", StandardCharsets.UTF_8);
    assertThat(refused(400, "GET", "/networks?filters=" + f, null)).contains("dangling=[maybe]");
    f = URLEncoder.encode("{\"until\":[\"1h\"]}", StandardCharsets.UTF_8);
    assertThat(refused(400, "GET", "/networks?filters=" + f, null))
        .startsWith("invalid filter 'until'");
  }

  @Test
  void inspectShowsEachRunningVmWithTheAddressContainerInspectShows() throws Exception {
    String on = run("net-on", "");
    String off = run("net-off", "{\"NetworkMode\":\"none\"}");
    JsonNode c = expect(200, "GET", "/containers/" + on + "/json", null);
    String ip = c.at("/NetworkSettings/IPAddress").asText();
    assertThat(ip).matches("\\d+\\.\\d+\\.\\d+\\.\\d+");

    JsonNode bridge = expect(200, "GET", "/networks/bridge", null);
    assertThat(bridge.get("Containers").size()).isEqualTo(1);
    JsonNode ep = bridge.at("/Containers/" + on);
    assertThat(ep.get("Name").asText()).isEqualTo("net-on");
    assertThat(ep.get("IPv4Address").asText()).isEqualTo(ip + "/30");
    assertThat(ep.get("MacAddress").asText())
        .isEqualTo(c.at("/NetworkSettings/MacAddress").asText())
        .matches("02(:[0-9a-f]{2}){5}");
    assertThat(ep.get("EndpointID").asText())
        .isEqualTo(c.at("/NetworkSettings/Networks/bridge/EndpointID").asText())
        .isNotEmpty();
    assertThat(ep.get("IPv6Address").asText()).isEmpty();
    // container inspect names the network by its id, as dockerd
    String id = bridge.get("Id").asText();
    assertThat(c.at("/NetworkSettings/Networks/bridge/NetworkID").asText()).isEqualTo(id);
    // by id and by id prefix: the same network
    assertThat(expect(200, "GET", "/networks/" + id, null).get("Name").asText())
        .isEqualTo("bridge");
    assertThat(expect(200, "GET", "/v1.41/networks/" + id.substring(0, 12), null))
        .isEqualTo(bridge);

    JsonNode none = expect(200, "GET", "/networks/none", null);
    assertThat(none.get("Containers").size()).isEqualTo(1);
    JsonNode noneEp = none.at("/Containers/" + off);
    assertThat(noneEp.get("Name").asText()).isEqualTo("net-off");
    assertThat(noneEp.get("IPv4Address").asText()).isEmpty();
    assertThat(noneEp.get("MacAddress").asText()).isEmpty();

    // the list leaves Containers out for today's clients and fills it for those before 1.28
    assertThat(expect(200, "GET", "/networks", null).get(0).get("Containers").size()).isZero();
    JsonNode old = expect(200, "GET", "/v1.24/networks", null);
    assertThat(old.get(0).at("/Containers/" + on + "/IPv4Address").asText()).isEqualTo(ip + "/30");

    // a stopped VM keeps its /30 but is on no network
    assertThat(d.docker("POST", "/containers/" + on + "/stop?t=0", null).status()).isEqualTo(204);
    assertThat(expect(200, "GET", "/networks/bridge", null).get("Containers").size()).isZero();
  }

  @Test
  void unknownNetworksAreNotFoundInDockerdsWords() throws Exception {
    assertThat(refused(404, "GET", "/networks/nope", null)).isEqualTo("network nope not found");
    assertThat(refused(404, "GET", "/networks/bridge?scope=swarm", null))
        .isEqualTo("network bridge not found");
    assertThat(
            expect(200, "GET", "/networks/bridge?scope=local&verbose=1", null).get("Name").asText())
        .isEqualTo("bridge");
  }

  @Test
  void everyChangeIsRefused() throws Exception {
    assertThat(refused(403, "POST", "/networks/create", "{\"Name\":\"x\",\"Driver\":\"bridge\"}"))
        .startsWith("cannot create network x: inferno has no user-defined networks");
    assertThat(refused(403, "POST", "/networks/create", "{\"Name\":\"bridge\"}"))
        .isEqualTo("operation is not permitted on predefined bridge network");
    assertThat(refused(403, "POST", "/networks/create", "{\"Name\":\"host\"}"))
        .isEqualTo("operation is not permitted on predefined host network");
    assertThat(refused(400, "POST", "/networks/create", "{}")).contains("Name is empty");

    assertThat(refused(403, "DELETE", "/networks/bridge", null))
        .isEqualTo("bridge is a pre-defined network and cannot be removed");
    assertThat(refused(403, "DELETE", "/networks/none", null))
        .isEqualTo("none is a pre-defined network and cannot be removed");
    assertThat(refused(404, "DELETE", "/networks/x", null)).isEqualTo("network x not found");

    String id = run("net-c", "");
    assertThat(refused(403, "POST", "/networks/none/connect", "{\"Container\":\"net-c\"}"))
        .startsWith("container net-c cannot be connected to network none:");
    assertThat(
            refused(
                403,
                "POST",
                "/networks/bridge/disconnect",
                "{\"Container\":\"" + id + "\",\"Force\":true}"))
        .startsWith("container net-c cannot be disconnected from network bridge:");
    // the container first, then the network, as dockerd
    assertThat(refused(404, "POST", "/networks/x/connect", "{\"Container\":\"ghost\"}"))
        .isEqualTo("No such container: ghost");
    assertThat(refused(404, "POST", "/networks/x/connect", "{\"Container\":\"net-c\"}"))
        .isEqualTo("network x not found");
    // nothing changed
    assertThat(
            expect(200, "GET", "/networks/bridge", null).at("/Containers/" + id + "/Name").asText())
        .isEqualTo("net-c");
    assertThat(expect(200, "GET", "/networks", null).size()).isEqualTo(2);
  }
}
