package dev.inferno.kiln.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** A CONTROL payload: {@code {"op":"stop"}} or {@code {"op":"signal","signal":N}}. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"op", "signal"})
public record ControlRequest(
    @JsonProperty("op") String op, @JsonProperty("signal") Integer signal) {

  public static ControlRequest stop() {
    return new ControlRequest("stop", null);
  }

  public static ControlRequest signal(int signal) {
    return new ControlRequest("signal", signal);
  }
}
