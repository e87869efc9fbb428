package dev.inferno.kiln.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The guest's exit report (PROTOCOL.md §6): the EXIT payload, the {@code INFERNO-EXIT} console line
 * and the content of {@code exit.json}. Field order and null handling are fixed so that encoding
 * gives init's bytes exactly.
 *
 * @param code what {@code docker run} would exit with
 * @param signal the signal that killed the process, or null
 * @param oom whether the guest OOM killer killed a process of the workload
 * @param startedNs guest CLOCK_REALTIME when the process started, ns since the epoch
 * @param finishedNs guest CLOCK_REALTIME when it finished
 * @param error a one-line message (125/126/127, or the host's reason when the VMM died without a
 *     report), else null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"code", "signal", "oom", "started_ns", "finished_ns", "error"})
public record ExitReport(
    @JsonProperty("code") int code,
    @JsonProperty("signal") Integer signal,
    @JsonProperty("oom") boolean oom,
    @JsonProperty("started_ns") long startedNs,
    @JsonProperty("finished_ns") long finishedNs,
    @JsonProperty("error") String error) {

  /** The JSON form, exactly as init writes it. */
  public String toJson() {
    return Json.write(this);
  }

  /** Parses a report; throws {@link ProtocolException} on malformed JSON. */
  public static ExitReport fromJson(String json) {
    return Json.read(json, ExitReport.class);
  }
}
