package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.api.PeerPolicy;
import dev.inferno.daemon.testing.TestDaemon;
import dev.inferno.model.http.UnixHttpClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docker pause|unpause|rename} on the Docker socket: 204s, dockerd's refusals (status and
 * words), and what inspect, the list and events show afterwards.
 */
class DockerContainerOpsApiTest {
  @TempDir Path dir;
  TestDaemon d;
  final ObjectMapper json = new ObjectMapper();

  @BeforeEach
  void setUp() throws Exception {
    d = new TestDaemon(dir, PeerPolicy.ALLOW_ALL);
    d.pull("busybox"); // create does not pull: the client does, through the images routes
  }

  @AfterEach
  void tearDown() throws Exception {
    d.close();
  }

  UnixHttpClient.Response call(String method, String path) throws Exception {
    return new UnixHttpClient(d.dockerSocket).send(method, path, null);
  }

  JsonNode ok(UnixHttpClient.Response r) throws Exception {
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(200);
    return json.readTree(text);
  }

  /** The status and Docker's {@code message} of a refusal. */
  String refused(UnixHttpClient.Response r, int status) throws Exception {
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(status);
    return json.readTree(text).get("message").asText();
  }

  String create(String name, String cmd) throws Exception {
    var r =
        new UnixHttpClient(d.dockerSocket)
            .send(
                "POST",
                "/v1.44/containers/create?name=" + name,
                "{\"Image\":\"busybox\",\"Cmd\":" + cmd + "}");
    String text = r.text();
    assertThat(r.status()).as(text).isEqualTo(201);
    return json.readTree(text).get("Id").asText();
  }

  static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Test
  void pauseAndUnpauseShowInInspectListAndEvents() throws Exception {
    long since = System.currentTimeMillis() / 1000;
    String id = create("p1", "[\"sleep\",\"60\"]");
    // not started yet: dockerd's words (scripts match on them)
    assertThat(refused(call("POST", "/v1.44/containers/p1/pause"), 409))
        .isEqualTo("container " + id + " is not running");
    assertThat(refused(call("POST", "/containers/p1/unpause"), 409))
        .isEqualTo("Container " + id + " is not paused");
    assertThat(refused(call("POST", "/containers/nope/pause"), 404))
        .isEqualTo("No such container: nope");
    assertThat(refused(call("POST", "/containers/nope/unpause"), 404))
        .isEqualTo("No such container: nope");

    assertThat(call("POST", "/containers/p1/start").status()).isEqualTo(204);
    assertThat(call("POST", "/v1.41/containers/p1/pause").status()).isEqualTo(204);
    JsonNode state = ok(call("GET", "/containers/p1/json")).get("State");
    assertThat(state.get("Status").asText()).isEqualTo("paused");
    assertThat(state.get("Paused").asBoolean()).isTrue();
    assertThat(state.get("Running").asBoolean()).isTrue(); // as dockerd: a paused one runs
    // the list: without all (a paused container is shown), and by the status filter
    JsonNode listed = ok(call("GET", "/containers/json"));
    assertThat(listed.size()).isEqualTo(1);
    assertThat(listed.get(0).get("State").asText()).isEqualTo("paused");
    assertThat(listed.get(0).get("Status").asText()).matches("Up .+ \\(Paused\\)");
    JsonNode byStatus =
        ok(call("GET", "/containers/json?filters=" + q("{\"status\":[\"paused\"]}")));
    assertThat(byStatus.findValuesAsText("Id")).containsExactly(id);
    assertThat(refused(call("POST", "/containers/p1/pause"), 409))
        .isEqualTo("Container " + id + " is already paused");

    assertThat(call("POST", "/containers/" + id.substring(0, 6) + "/unpause").status())
        .isEqualTo(204);
    state = ok(call("GET", "/containers/p1/json")).get("State");
    assertThat(state.get("Status").asText()).isEqualTo("running");
    assertThat(state.get("Paused").asBoolean()).isFalse();
    assertThat(ok(call("GET", "/containers/json")).get(0).get("Status").asText())
        .matches("Up [^(]+");
    assertThat(refused(call("POST", "/containers/p1/unpause"), 409))
        .isEqualTo("Container " + id + " is not paused");

    // events: Docker's pause and unpause actions for it
    long until = System.currentTimeMillis() / 1000 + 1;
    String events =
        call(
                "GET",
                "/events?since="
                    + since
                    + "&until="
                    + until
                    + "&filters="
                    + q("{\"container\":[\"p1\"],\"event\":[\"pause\",\"unpause\"]}"))
            .text();
    // (an idle stream's keep-alive newlines are blank lines)
    assertThat(
            events
                .lines()
                .filter(l -> !l.isBlank())
                .map(l -> l.replaceAll(".*\"Action\":\"(\\w+)\".*", "$1")))
        .containsExactly("pause", "unpause");

    // stopped: not running again
    assertThat(call("POST", "/containers/p1/kill").status()).isEqualTo(204);
    // the body comes at the exit (the headers once the wait is registered)
    assertThat(call("POST", "/containers/p1/wait").text()).contains("\"StatusCode\":");
    assertThat(refused(call("POST", "/containers/p1/pause"), 409))
        .isEqualTo("container " + id + " is not running");
  }

  /** An update body as both docker CLIs send it: every Resources field, zero unless given. */
  static String updateBody(String given) {
    return "{\"CpuShares\":0,\"Memory\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,"
        + "\"BlkioWeightDevice\":null,\"BlkioDeviceReadBps\":null,\"CpuPeriod\":0,\"CpuQuota\":0,"
        + "\"CpusetCpus\":\"\",\"Devices\":null,\"KernelMemory\":0,\"MemoryReservation\":0,"
        + "\"MemorySwap\":0,\"MemorySwappiness\":null,\"NanoCpus\":0,\"OomKillDisable\":null,"
        + "\"PidsLimit\":null,\"Ulimits\":null,\"CpuCount\":0,\"CpuPercent\":0,"
        + "\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,"
        + "\"RestartPolicy\":{\"Name\":\"\",\"MaximumRetryCount\":0}"
        + (given.isEmpty() ? "" : "," + given)
        + "}";
  }

  UnixHttpClient.Response update(String ref, String given) throws Exception {
    // a later key wins in Jackson's tree: "given" overrides the zero above it
    return new UnixHttpClient(d.dockerSocket)
        .send("POST", "/v1.44/containers/" + ref + "/update", updateBody(given));
  }

  JsonNode hostConfig(String ref) throws Exception {
    return ok(call("GET", "/containers/" + ref + "/json")).get("HostConfig");
  }

  @Test
  void updateRecordsRestartPolicyAndSizeWithWarningsAndRefusesTheRest() throws Exception {
    long since = System.currentTimeMillis() / 1000;
    String id = create("u1", "[\"sleep\",\"60\"]");
    // created: the next start takes the size, nothing to warn about
    JsonNode answer = ok(update("u1", "\"Memory\":402653184"));
    assertThat(answer.get("Warnings")).isEmpty();
    assertThat(hostConfig("u1").get("Memory").asLong()).isEqualTo(402653184L);

    assertThat(call("POST", "/containers/u1/start").status()).isEqualTo(204);
    answer = ok(update("u1", "\"Memory\":536870912,\"NanoCpus\":1500000000"));
    assertThat(answer.get("Warnings").toString())
        .contains("rounded up to 2")
        .contains("is running: its new size (2 vCPUs, 512 MiB) takes effect when it boots next");
    JsonNode host = hostConfig("u1");
    assertThat(host.get("Memory").asLong()).isEqualTo(536870912L);
    assertThat(host.get("NanoCpus").asLong()).isEqualTo(2_000_000_000L);
    assertThat(ok(call("GET", "/containers/u1/json")).at("/State/Status").asText())
        .isEqualTo("running");

    // the restart policy: a name changes it, "no" too; an empty name leaves it
    ok(update("u1", "\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}"));
    assertThat(hostConfig("u1").get("RestartPolicy").toString())
        .isEqualTo("{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}");
    ok(update("u1", ""));
    assertThat(hostConfig("u1").at("/RestartPolicy/Name").asText()).isEqualTo("on-failure");
    ok(update("u1", "\"RestartPolicy\":{\"Name\":\"always\"}"));
    assertThat(hostConfig("u1").at("/RestartPolicy/Name").asText()).isEqualTo("always");
    ok(update("u1", "\"RestartPolicy\":{\"Name\":\"no\"}"));
    assertThat(hostConfig("u1").at("/RestartPolicy/Name").asText()).isEqualTo("no");

    // what a microVM has no knob for: 400 naming the field; nothing changed
    for (String field :
        new String[] {
          "\"CpuShares\":512",
          "\"PidsLimit\":100",
          "\"KernelMemory\":1048576",
          "\"CpusetCpus\":\"0\"",
          "\"BlkioWeight\":300",
          "\"MemorySwap\":-1",
          "\"MemorySwappiness\":10"
        }) {
      String name = field.substring(1, field.indexOf('"', 1));
      assertThat(refused(update("u1", field + ",\"Memory\":268435456"), 400))
          .as(field)
          .startsWith(name + " is not supported: ");
    }
    assertThat(hostConfig("u1").get("Memory").asLong()).isEqualTo(536870912L);
    assertThat(refused(update("u1", "\"RestartPolicy\":{\"Name\":\"sometimes\"}"), 400))
        .startsWith("RestartPolicy.Name \"sometimes\"");
    assertThat(refused(update("u1", "\"Memory\":-1"), 400)).startsWith("Memory -1");
    assertThat(refused(update("u1", "\"Memory\":1048576"), 400)).contains("at least");
    assertThat(refused(update("nope", "\"Memory\":536870912"), 404))
        .isEqualTo("No such container: nope");

    // AutoRemove: dockerd's 409 for a policy, "no" is fine
    var r =
        new UnixHttpClient(d.dockerSocket)
            .send(
                "POST",
                "/containers/create?name=gone",
                "{\"Image\":\"busybox\",\"Cmd\":[\"sleep\",\"60\"],"
                    + "\"HostConfig\":{\"AutoRemove\":true}}");
    String gone = json.readTree(r.text()).get("Id").asText();
    assertThat(refused(update("gone", "\"RestartPolicy\":{\"Name\":\"always\"}"), 409))
        .isEqualTo(
            "Cannot update container "
                + gone
                + ": Restart policy cannot be updated because AutoRemove is enabled for the"
                + " container");
    ok(update("gone", "\"RestartPolicy\":{\"Name\":\"no\"}"));

    // events: Docker's update action, one per accepted update of u1
    long until = System.currentTimeMillis() / 1000 + 1;
    String events =
        call(
                "GET",
                "/events?since="
                    + since
                    + "&until="
                    + until
                    + "&filters="
                    + q("{\"container\":[\"" + id + "\"],\"event\":[\"update\"]}"))
            .text();
    assertThat(events.lines().filter(l -> !l.isBlank()))
        .hasSize(6)
        .allSatisfy(
            l -> assertThat(l).contains("\"Action\":\"update\"").contains("\"name\":\"u1\""));
  }

  @Test
  void anUpdatedPolicyRestartsTheContainerAtItsNextExit() throws Exception {
    create("flaky", "[\"sh\",\"-c\",\"exit 1\"]");
    ok(update("flaky", "\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":2}"));
    assertThat(call("POST", "/containers/flaky/start").status()).isEqualTo(204);
    long deadline = System.nanoTime() + 20_000_000_000L;
    JsonNode c = ok(call("GET", "/containers/flaky/json"));
    while (!(c.get("RestartCount").asInt() == 2
        && c.at("/State/Status").asText().equals("exited"))) {
      assertThat(System.nanoTime()).as("two restarts, then exited").isLessThan(deadline);
      Thread.sleep(20);
      c = ok(call("GET", "/containers/flaky/json"));
    }
    assertThat(c.at("/State/ExitCode").asInt()).isEqualTo(1);
  }

  @Test
  void renameChecksInDockerdsOrderWithItsWords() throws Exception {
    String id = create("old", "[\"true\"]");
    String other = create("other", "[\"true\"]");

    for (String empty : new String[] {"", "?name=", "?name=%20", "?name=/"}) {
      assertThat(refused(call("POST", "/containers/old/rename" + empty), 400))
          .as(empty)
          .isEqualTo("Neither old nor new names may be empty");
    }
    assertThat(refused(call("POST", "/containers/nope/rename?name=x1"), 404))
        .isEqualTo("No such container: nope");
    assertThat(refused(call("POST", "/containers/old/rename?name=old"), 400))
        .isEqualTo("Renaming a container with the same name as its current name");
    assertThat(refused(call("POST", "/containers/old/rename?name=/old"), 400))
        .isEqualTo("Renaming a container with the same name as its current name");
    assertThat(refused(call("POST", "/containers/old/rename?name=" + q("bad name")), 400))
        .isEqualTo(
            "Error when allocating new name: Invalid container name (/bad name), only"
                + " [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    assertThat(refused(call("POST", "/containers/old/rename?name=x"), 400))
        .startsWith("Error when allocating new name: Invalid container name (/x)");
    assertThat(refused(call("POST", "/containers/old/rename?name=" + "n".repeat(129)), 400))
        .contains("longer than 128");
    assertThat(refused(call("POST", "/containers/old/rename?name=other"), 409))
        .isEqualTo(
            "Error when allocating new name: Conflict. The container name \"/other\" is already"
                + " in use by container \""
                + other
                + "\". You have to remove (or rename) that container to be able to reuse that"
                + " name.");
    // nothing changed by the refusals
    assertThat(ok(call("GET", "/containers/old/json")).get("Name").asText()).isEqualTo("/old");

    assertThat(call("POST", "/v1.41/containers/old/rename?name=new.name_1").status())
        .isEqualTo(204);
    JsonNode renamed = ok(call("GET", "/containers/new.name_1/json"));
    assertThat(renamed.get("Id").asText()).isEqualTo(id);
    assertThat(renamed.get("Name").asText()).isEqualTo("/new.name_1");
    assertThat(refused(call("GET", "/containers/old/json"), 404))
        .isEqualTo("No such container: old");
    JsonNode listed =
        ok(call("GET", "/containers/json?all=1&filters=" + q("{\"id\":[\"" + id + "\"]}")));
    assertThat(listed.get(0).get("Names").toString()).isEqualTo("[\"/new.name_1\"]");
    // Docker's /name form; the old name is free again
    assertThat(call("POST", "/containers/" + id + "/rename?name=%2Fnewer").status()).isEqualTo(204);
    assertThat(ok(call("GET", "/containers/" + id + "/json")).get("Name").asText())
        .isEqualTo("/newer");
    create("old", "[\"true\"]");
  }
}
