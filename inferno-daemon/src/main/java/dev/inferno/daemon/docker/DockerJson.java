package dev.inferno.daemon.docker;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The Docker API's ObjectMapper. Records name their components as Docker spells the fields (with
 * {@code @JsonProperty} where Java's names cannot, e.g. {@code ID}); times are RFC 3339 strings.
 * Request bodies are read as trees and checked field by field (which fields are supported, which
 * are refused naming the option): see {@link ContainerRoutes}.
 */
public final class DockerJson {
  private DockerJson() {}

  public static ObjectMapper mapper() {
    return JsonMapper.builder()
        .addModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .serializationInclusion(JsonInclude.Include.ALWAYS)
        .build();
  }
}
