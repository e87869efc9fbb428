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

  /** Path variables when the path matches, else null. */
  Map<String, String> match(List<String> path) {
    List<String> seg = segments();
    if (seg.size() != path.size()) {
      return null;
    }
    Map<String, String> vars = new HashMap<>();
    for (int i = 0; i < seg.size(); i++) {
      String s = seg.get(i);
      if (s.startsWith("{") && s.endsWith("}")) {
        if (path.get(i).isEmpty()) {
          return null;
        }
        vars.put(s.substring(1, s.length() - 1), path.get(i));
      } else if (!s.equals(path.get(i))) {
        return null;
      }
    }
    return vars;
  }
}
