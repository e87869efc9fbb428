package dev.inferno.kiln.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** A CONTROL_REPLY payload: {@code {"ok":true}} or {@code {"ok":false,"error":"..."}}. */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"ok", "error"})
public record ControlReply(@JsonProperty("ok") boolean ok, @JsonProperty("error") String error) {

  public static ControlReply success() {
    return new ControlReply(true, null);
  }

  public static ControlReply failure(String error) {
    return new ControlReply(false, error);
  }
}
