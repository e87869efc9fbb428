package dev.inferno.kiln.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * A METRICS payload (PROTOCOL.md §6). Unknown fields are ignored, missing ones read as 0 / null.
 *
 * @param pids processes the guest runs, kernel threads left out (docker stats' PIDS)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"time_ns", "cpu", "memory", "disk", "network", "log_dropped_bytes", "pids"})
public record GuestMetrics(
    @JsonProperty("time_ns") long timeNs,
    @JsonProperty("cpu") Cpu cpu,
    @JsonProperty("memory") Memory memory,
    @JsonProperty("disk") Disk disk,
    @JsonProperty("network") Network network,
    @JsonProperty("log_dropped_bytes") long logDroppedBytes,
    // 0 is left out, so a frame of an init that predates pids encodes to the same bytes
    @JsonProperty("pids") @JsonInclude(JsonInclude.Include.NON_DEFAULT) long pids) {

  @JsonCreator
  public GuestMetrics {}

  /** A payload without {@code pids} (an init that predates it): 0. */
  public GuestMetrics(
      long timeNs, Cpu cpu, Memory memory, Disk disk, Network network, long logDroppedBytes) {
    this(timeNs, cpu, memory, disk, network, logDroppedBytes, 0);
  }

  /** CPU time of the guest, in ms. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonPropertyOrder({"user_ms", "system_ms", "idle_ms"})
  public record Cpu(
      @JsonProperty("user_ms") long userMs,
      @JsonProperty("system_ms") long systemMs,
      @JsonProperty("idle_ms") long idleMs) {}

  /** Guest memory. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonPropertyOrder({"total_bytes", "available_bytes", "cgroup_current_bytes"})
  public record Memory(
      @JsonProperty("total_bytes") long totalBytes,
      @JsonProperty("available_bytes") long availableBytes,
      @JsonProperty("cgroup_current_bytes") long cgroupCurrentBytes) {}

  /** Block I/O of the guest. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonPropertyOrder({"read_bytes", "write_bytes"})
  public record Disk(
      @JsonProperty("read_bytes") long readBytes, @JsonProperty("write_bytes") long writeBytes) {}

  /** Network I/O of the guest. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonPropertyOrder({"rx_bytes", "tx_bytes"})
  public record Network(
      @JsonProperty("rx_bytes") long rxBytes, @JsonProperty("tx_bytes") long txBytes) {}
}
