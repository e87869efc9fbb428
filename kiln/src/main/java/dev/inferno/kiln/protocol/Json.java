package dev.inferno.kiln.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The one ObjectMapper of the protocol: compact output (init writes JSON without spaces). */
final class Json {
  static final ObjectMapper MAPPER =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, false);

  private Json() {}

  static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new ProtocolException("cannot encode " + value.getClass().getSimpleName(), e);
    }
  }

  static <T> T read(String json, Class<T> type) {
    try {
      T value = MAPPER.readValue(json, type);
      if (value == null) {
        throw new ProtocolException("empty " + type.getSimpleName() + " payload");
      }
      return value;
    } catch (JsonProcessingException e) {
      throw new ProtocolException(
          "malformed " + type.getSimpleName() + " JSON: " + e.getOriginalMessage(), e);
    }
  }
}
