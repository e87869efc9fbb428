package dev.inferno.daemon.api;

import dev.inferno.daemon.vm.ApiException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One API route: a method and a path template like {@code /v1/vms/{id}/logs}.
 *
 * @param method HTTP method
 * @param template the path template, as docs/api.yaml spells it
 * @param handler what serves it
 */
public record Route(String method, String template, Handler handler) {
  /** Serves one exchange; throws {@link ApiException} to refuse. */
  @FunctionalInterface
  public interface Handler {
    void handle(Exchange ex) throws Exception;
  }

  /** The template's segments. */
  List<String> segments() {
    return List.of(template.substring(1).split("/"));
  }

  /**
   * Whether this template ends in a {@code {name*}} that takes more than one segment of {@code
   * path} (which it matches). Such a match only serves its own method: {@code GET
   * /images/busybox/nope} is as much an unknown action on busybox as an image named busybox/nope,
   * so {@code DELETE /images/{name*}} must not make it a 405.
   */
  boolean catchAllSpans(List<String> path) {
    List<String> seg = segments();
    return seg.getLast().endsWith("*}") && path.size() > seg.size();
  }

  /**
   * Path variables when the path matches, else null. One {@code {name*}} variable per template
   * takes one or more segments joined by {@code /} (Docker's image names hold slashes).
   */
  Map<String, String> match(List<String> path) {
    List<String> seg = segments();
    int rest = -1;
    for (int i = 0; i < seg.size(); i++) {
      if (seg.get(i).endsWith("*}")) {
        rest = i;
      }
    }
    if (rest < 0 ? seg.size() != path.size() : path.size() < seg.size()) {
      return null;
    }
    Map<String, String> vars = new HashMap<>();
    int extra = path.size() - seg.size();
    for (int i = 0; i < seg.size(); i++) {
      String s = seg.get(i);
      int at = i > rest && rest >= 0 ? i + extra : i;
      if (i == rest) {
        List<String> taken = path.subList(i, i + extra + 1);
        if (taken.stream().anyMatch(String::isEmpty)) {
          return null;
        }
        vars.put(s.substring(1, s.length() - 2), String.join("/", taken));
      } else if (s.startsWith("{") && s.endsWith("}")) {
        if (path.get(at).isEmpty()) {
          return null;
        }
        vars.put(s.substring(1, s.length() - 1), path.get(at));
      } else if (!s.equals(path.get(at))) {
        return null;
      }
    }
    return vars;
  }
}
