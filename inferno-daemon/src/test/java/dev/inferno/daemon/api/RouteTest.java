package dev.inferno.daemon.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Route templates: one segment per {var}; {name*} takes one or more (image names hold slashes). */
class RouteTest {
  static Map<String, String> match(String template, String path) {
    return new Route("GET", template, ex -> {}).match(List.of(path.substring(1).split("/", -1)));
  }

  @Test
  void plainVariablesTakeOneNonEmptySegment() {
    assertThat(match("/v1/vms/{id}/logs", "/v1/vms/abc/logs")).isEqualTo(Map.of("id", "abc"));
    assertThat(match("/v1/vms/{id}/logs", "/v1/vms/a/b/logs")).isNull();
    assertThat(match("/v1/vms/{id}/logs", "/v1/vms//logs")).isNull();
  }

  @Test
  void aStarVariableTakesEverySegmentBetweenItsNeighbours() {
    assertThat(match("/images/{name*}/json", "/images/busybox/json"))
        .isEqualTo(Map.of("name", "busybox"));
    assertThat(match("/images/{name*}/json", "/images/localhost:5000/team/tool:1/json"))
        .isEqualTo(Map.of("name", "localhost:5000/team/tool:1"));
    assertThat(match("/images/{name*}", "/images/localhost:5000/tool:1"))
        .isEqualTo(Map.of("name", "localhost:5000/tool:1"));
    assertThat(match("/images/{name*}/json", "/images/json")).as("at least one segment").isNull();
    assertThat(match("/images/{name*}/json", "/images/a/tag")).as("the tail must match").isNull();
    assertThat(match("/images/{name*}/json", "/images/a//json")).as("no empty segment").isNull();
  }

  @Test
  void onlyATrailingStarOverSeveralSegmentsIsACatchAll() {
    Route delete = new Route("DELETE", "/images/{name*}", ex -> {});
    Route json = new Route("GET", "/images/{name*}/json", ex -> {});
    assertThat(delete.catchAllSpans(List.of("images", "busybox"))).isFalse();
    assertThat(delete.catchAllSpans(List.of("images", "busybox", "nope"))).isTrue();
    assertThat(delete.catchAllSpans(List.of("images", "localhost:5000", "tools", "busybox:1")))
        .isTrue();
    assertThat(json.catchAllSpans(List.of("images", "tools", "busybox", "json"))).isFalse();
  }
}
