package dev.inferno.daemon.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.vm.ApiException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Docker's {@code filters} query parameter: a JSON object of key to values, as {@code
 * {"label":["a=b"]}} or the older {@code {"label":{"a=b":true}}} (both still sent). Values of one
 * key are alternatives; keys all apply. The one parser for containers, images and events.
 *
 * @param values every key's values, in the order given
 */
public record DockerFilters(Map<String, List<String>> values) {
  public static final DockerFilters NONE = new DockerFilters(Map.of());

  public DockerFilters {
    values = Map.copyOf(values);
  }

  /** Parses {@code filters}; null or empty is no filter. Keys outside {@code known}: 400. */
  public static DockerFilters parse(String raw, ObjectMapper json, Set<String> known) {
    if (raw == null || raw.isBlank()) {
      return NONE;
    }
    JsonNode root;
    try {
      root = json.readTree(raw);
    } catch (IOException e) {
      throw ApiException.badRequest("invalid filters: not a JSON object: " + raw);
    }
    if (root == null || !root.isObject()) {
      throw ApiException.badRequest("invalid filters: not a JSON object: " + raw);
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!known.contains(e.getKey())) {
        throw ApiException.badRequest(
            "invalid filter '"
                + e.getKey()
                + "': this API filters on "
                + String.join(", ", known.stream().sorted().toList()));
      }
      List<String> vals = new ArrayList<>();
      JsonNode v = e.getValue();
      if (v.isArray()) {
        v.forEach(x -> vals.add(x.asText()));
      } else if (v.isObject()) {
        v.fieldNames().forEachRemaining(vals::add);
      } else {
        throw ApiException.badRequest("invalid filter '" + e.getKey() + "': expected a list");
      }
      out.put(e.getKey(), List.copyOf(vals));
    }
    return new DockerFilters(out);
  }

  /** The values of key (empty: not filtered on it). */
  public List<String> get(String key) {
    return values.getOrDefault(key, List.of());
  }

  /**
   * Docker's label filter: every {@code label} value given ({@code KEY} present, or {@code
   * KEY=VALUE}) is on {@code labels} — all of them, as dockerd; true when none is given.
   */
  public boolean labels(Map<String, String> labels) {
    Map<String, String> l = labels == null ? Map.of() : labels;
    return get("label").stream().allMatch(v -> label(v, l));
  }

  /** One label filter value against labels: {@code KEY} present, or {@code KEY=VALUE}. */
  static boolean label(String v, Map<String, String> labels) {
    int eq = v.indexOf('=');
    return eq < 0
        ? labels.containsKey(v)
        : v.substring(eq + 1).equals(labels.get(v.substring(0, eq)));
  }

  /** True when key is not filtered on, or one of its values satisfies test. */
  public boolean admits(String key, java.util.function.Predicate<String> test) {
    List<String> v = get(key);
    return v.isEmpty() || v.stream().anyMatch(test);
  }

  /**
   * A boolean filter as dockerd's {@code GetBoolOrDefault} reads it ({@code dangling}): true/1 or
   * false/0, one of them; null when not given. Anything else: 400 {@code invalid filter 'KEY=[V]'}.
   */
  public Boolean bool(String key) {
    List<String> v = get(key);
    if (v.isEmpty()) {
      return null;
    }
    boolean t = v.contains("true") || v.contains("1");
    boolean no = v.contains("false") || v.contains("0");
    if (t == no) {
      throw ApiException.badRequest("invalid filter '" + key + "=" + v + "': true or false");
    }
    return t;
  }
}
