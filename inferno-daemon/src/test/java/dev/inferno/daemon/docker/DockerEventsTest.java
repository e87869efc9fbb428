package dev.inferno.daemon.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.model.Event;
import dev.inferno.model.ExitRecord;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** inferno's event types as Docker's, and Docker's event filters. */
class DockerEventsTest {
  static final Instant T = Instant.parse("2026-12-04T10:00:00.123456789Z");
  static final String ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  static Event ev(String type, String id, String name, ExitRecord exit) {
    return new Event(1, type, id, name, T, exit);
  }

  static SystemShapes.Event docker(Event e) {
    return DockerEvents.of(e, id -> null);
  }

  @Test
  void containerTypesMapOntoDockersActions() {
    Map<String, String> want =
        Map.of(
            "created", "create",
            "started", "start",
            "exited", "die",
            "restarted", "restart",
            "paused", "pause",
            "unpaused", "unpause",
            "renamed", "rename",
            "updated", "update",
            "removed", "destroy",
            "health_status: healthy", "health_status: healthy");
    want.forEach((inferno, action) -> {
      SystemShapes.Event d = docker(ev(inferno, ID, "web", null));
      assertThat(d.Type()).as(inferno).isEqualTo("container");
      assertThat(d.Action()).as(inferno).isEqualTo(action);
      assertThat(d.status()).as("legacy status").isEqualTo(action);
      assertThat(d.id()).isEqualTo(ID);
      assertThat(d.Actor().ID()).isEqualTo(ID);
      assertThat(d.Actor().Attributes()).containsEntry("name", "web");
      assertThat(d.scope()).isEqualTo("local");
      assertThat(d.time()).isEqualTo(T.getEpochSecond());
      assertThat(d.timeNano()).isEqualTo(T.getEpochSecond() * 1_000_000_000L + 123456789);
    });
  }

  @Test
  void dieCarriesTheExitCodeAndRestartingIsNotShown() {
    var d = docker(ev("exited", ID, "web", new ExitRecord(7, null, false, null, T)));
    assertThat(d.Actor().Attributes()).containsEntry("exitCode", "7");
    var killed = docker(ev("exited", ID, "web", new ExitRecord(137, "SIGKILL", false, null, T)));
    assertThat(killed.Actor().Attributes())
        .containsEntry("exitCode", "137")
        .containsEntry("signal", "SIGKILL");
    assertThat(docker(ev("restarting", ID, "web", null))).isNull();
    assertThat(docker(ev("shutdown", "", null, null))).isNull();
  }

  @Test
  void imageEventsNameTheImageAsDockerPrintsIt() {
    var pull = docker(ev("pulled", "docker.io/library/busybox:latest", null, null));
    assertThat(pull.Type()).isEqualTo("image");
    assertThat(pull.Action()).isEqualTo("pull");
    assertThat(pull.Actor().ID()).isEqualTo("busybox:latest");
    assertThat(pull.Actor().Attributes()).containsEntry("name", "busybox:latest");
    assertThat(docker(ev("loaded", "localhost:5000/x:1", null, null)).Action()).isEqualTo("load");
    assertThat(docker(ev("image-removed", "localhost:5000/x:1", null, null)).Action())
        .isEqualTo("delete");
    var tag = docker(ev("tagged", "docker.io/library/mine:1", null, null));
    assertThat(tag.Type()).isEqualTo("image");
    assertThat(tag.Action()).isEqualTo("tag");
    assertThat(tag.Actor().ID()).isEqualTo("mine:1");
    assertThat(docker(ev("untagged", "docker.io/library/mine:1", null, null)).Action())
        .isEqualTo("untag");
  }

  @Test
  void filtersOnContainerEventTypeImageAndLabel() {
    var json = DockerJson.mapper();
    var start = docker(ev("started", ID, "web", null));
    var pull = docker(ev("pulled", "docker.io/library/busybox:latest", null, null));
    assertThat(DockerEvents.admits(start, DockerFilters.NONE)).isTrue();
    assertThat(DockerEvents.admits(start, f(json, "{\"container\":[\"web\"]}"))).isTrue();
    assertThat(DockerEvents.admits(start, f(json, "{\"container\":[\"0123\"]}"))).isTrue();
    assertThat(DockerEvents.admits(start, f(json, "{\"container\":[\"db\"]}"))).isFalse();
    assertThat(DockerEvents.admits(pull, f(json, "{\"container\":[\"web\"]}"))).isFalse();
    assertThat(DockerEvents.admits(start, f(json, "{\"event\":[\"die\",\"start\"]}"))).isTrue();
    assertThat(DockerEvents.admits(start, f(json, "{\"event\":{\"die\":true}}"))).isFalse();
    assertThat(DockerEvents.admits(pull, f(json, "{\"type\":[\"image\"]}"))).isTrue();
    assertThat(DockerEvents.admits(start, f(json, "{\"type\":[\"image\"]}"))).isFalse();
    assertThat(DockerEvents.admits(pull, f(json, "{\"image\":[\"busybox\"]}"))).isTrue();
    assertThat(DockerEvents.admits(pull, f(json, "{\"image\":[\"busybox:1.36\"]}"))).isFalse();
    assertThat(DockerEvents.admits(pull, f(json, "{\"image\":[\"alpine\"]}"))).isFalse();
    assertThat(DockerEvents.admits(start, f(json, "{\"label\":[\"a=b\"]}"))).isFalse();
    var health = docker(ev("health_status: unhealthy", ID, "web", null));
    assertThat(DockerEvents.admits(health, f(json, "{\"event\":[\"health_status\"]}"))).isTrue();
  }

  @Test
  void imageNamesCompareAsDockerDoes() {
    assertThat(DockerEvents.sameImage("busybox", "docker.io/library/busybox:latest")).isTrue();
    assertThat(DockerEvents.sameImage("busybox:latest", "busybox")).isTrue();
    assertThat(DockerEvents.sameImage("localhost:5000/busybox", "localhost:5000/busybox:1"))
        .isTrue();
    assertThat(DockerEvents.sameImage("localhost:5000/busybox:2", "localhost:5000/busybox:1"))
        .isFalse();
    assertThat(DockerEvents.sameImage("busybox", null)).isFalse();
  }

  @Test
  void serializesWithDockersFieldNames() throws Exception {
    String s =
        DockerJson.mapper()
            .writeValueAsString(
                docker(ev("exited", ID, "web", new ExitRecord(0, null, false, null, T))));
    assertThat(s)
        .contains("\"Type\":\"container\"", "\"Action\":\"die\"", "\"Actor\":{\"ID\":\"" + ID)
        .contains("\"Attributes\":{", "\"scope\":\"local\"", "\"timeNano\":")
        .doesNotContain("\"from\"", "null");
  }

  static DockerFilters f(com.fasterxml.jackson.databind.ObjectMapper json, String raw) {
    return DockerFilters.parse(raw, json, DockerEvents.FILTERS);
  }

  @Test
  void unknownFilterKeysAreRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() ->
            DockerFilters.parse("{\"network\":[\"x\"]}", DockerJson.mapper(), DockerEvents.FILTERS))
        .hasMessageContaining("invalid filter 'network'");
    assertThat(DockerEvents.FILTERS)
        .isEqualTo(Set.of("container", "event", "type", "image", "volume", "label"));
  }
}
