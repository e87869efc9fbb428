package dev.inferno.kiln.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the fields of one JSON object with a path for error messages, as init's {@code config.rs}
 * does (same rules, same words): absent and {@code null} are both "not set".
 */
final class JsonFields {
  private final JsonNode node;
  private final String path;

  private JsonFields(JsonNode node, String path) {
    this.node = node;
    this.path = path;
  }

  static JsonFields of(JsonNode node, String path) {
    if (node == null || !node.isObject()) {
      throw new ProtocolException(
          (path.isEmpty() ? "the run config" : path) + " must be an object, not " + type(node));
    }
    return new JsonFields(node, path);
  }

  private JsonNode field(String k) {
    JsonNode v = node.get(k);
    return v == null || v.isNull() ? null : v;
  }

  boolean has(String k) {
    return node.has(k);
  }

  private String name(String k) {
    return path.isEmpty() ? k : path + "." + k;
  }

  JsonFields obj(String k) {
    JsonNode v = field(k);
    return v == null ? null : of(v, name(k));
  }

  String str(String k) {
    JsonNode v = field(k);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      throw new ProtocolException(name(k) + " must be a string, not " + type(v));
    }
    return v.asText();
  }

  Long u64(String k) {
    JsonNode v = field(k);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() || v.asLong() < 0 || !v.canConvertToLong()) {
      throw new ProtocolException(name(k) + " must be a non-negative integer, not " + v.toString());
    }
    return v.asLong();
  }

  int port(String k, int d) {
    Long p = u64(k);
    if (p == null) {
      return d;
    }
    // vsock ports are u32 in init; the host never needs one above an int's range
    if (p > Integer.MAX_VALUE) {
      throw new ProtocolException(name(k) + " is out of range: " + p);
    }
    return (int) p.longValue();
  }

  Boolean bool(String k) {
    JsonNode v = field(k);
    if (v == null) {
      return null;
    }
    if (!v.isBoolean()) {
      // the value itself, as init's config.rs writes it
      throw new ProtocolException(name(k) + " must be true or false, not " + v.toString());
    }
    return v.asBoolean();
  }

  /** {@code [rows, cols]}, each 1 to 65535, or null. */
  ConsoleSize consoleSize(String k) {
    JsonNode v = field(k);
    if (v == null) {
      return null;
    }
    if (!v.isArray()
        || v.size() != 2
        || !v.get(0).isIntegralNumber()
        || !v.get(1).isIntegralNumber()
        || !ConsoleSize.valid(v.get(0).asLong())
        || !ConsoleSize.valid(v.get(1).asLong())) {
      throw new ProtocolException(
          name(k) + " must be [rows, cols], each 1 to 65535, not " + v.toString());
    }
    return new ConsoleSize(v.get(0).asInt(), v.get(1).asInt());
  }

  List<String> strings(String k) {
    JsonNode v = field(k);
    if (v == null) {
      return null;
    }
    if (!v.isArray()) {
      throw new ProtocolException(name(k) + " must be a list of strings, not " + type(v));
    }
    List<String> out = new ArrayList<>(v.size());
    for (JsonNode i : v) {
      if (!i.isTextual()) {
        throw new ProtocolException(name(k) + " must be a list of strings, found " + type(i));
      }
      out.add(i.asText());
    }
    return out;
  }

  /** A list of objects, each read with the path {@code k[i]}; null when not set. */
  List<JsonFields> objects(String k) {
    JsonNode v = field(k);
    if (v == null) {
      return null;
    }
    if (!v.isArray()) {
      throw new ProtocolException(name(k) + " must be a list, not " + type(v));
    }
    List<JsonFields> out = new ArrayList<>(v.size());
    for (int i = 0; i < v.size(); i++) {
      out.add(of(v.get(i), name(k) + "[" + i + "]"));
    }
    return out;
  }

  /** init's names for JSON types. */
  static String type(JsonNode v) {
    if (v == null || v.isNull() || v.isMissingNode()) {
      return "null";
    }
    if (v.isBoolean()) {
      return "boolean";
    }
    if (v.isNumber()) {
      return "number";
    }
    if (v.isTextual()) {
      return "string";
    }
    return v.isArray() ? "array" : "object";
  }

  /** Rust's {@code {:?}} of a string, for the messages both sides share. */
  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
