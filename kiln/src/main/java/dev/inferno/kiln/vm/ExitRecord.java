package dev.inferno.kiln.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.kiln.protocol.ExitReport;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How a VM ended: the guest's exit report (docs/PROTOCOL.md §6) plus where it came from, and a
 * reason when kiln had to make it up (the VMM died without a report, or kiln killed it).
 *
 * @param source "guest" (EXIT frame), "console" (INFERNO-EXIT line) or "host" (no report)
 * @param reason null when the guest reported; else why there is no report
 */
public record ExitRecord(
    int code,
    Integer signal,
    boolean oom,
    long startedNs,
    long finishedNs,
    String error,
    String source,
    String reason) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Exit code used when the VMM went away without any report (like a container runtime error). */
  public static final int NO_REPORT_CODE = 255;

  /** The record of init's exit report (EXIT frame or the console's INFERNO-EXIT line). */
  public static ExitRecord fromReport(ExitReport r, String source) {
    return new ExitRecord(
        r.code(), r.signal(), r.oom(), r.startedNs(), r.finishedNs(), r.error(), source, null);
  }

  public static ExitRecord hostMade(int code, Integer signal, long startedNs, String reason) {
    long now = System.currentTimeMillis() * 1_000_000L;
    return new ExitRecord(code, signal, false, startedNs, now, null, "host", reason);
  }

  /**
   * Whether {@link #code} is an exit status: the guest reported it, or kiln killed the VM (137).
   * False when the VMM went away without a report and the code is {@link #NO_REPORT_CODE}.
   */
  public boolean hasCode() {
    return !("host".equals(source) && code == NO_REPORT_CODE);
  }

  public ExitRecord withReason(String why) {
    return new ExitRecord(code, signal, oom, startedNs, finishedNs, error, source, why);
  }

  public byte[] toJson() throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("code", code);
    if (signal == null) {
      n.putNull("signal");
    } else {
      n.put("signal", signal);
    }
    n.put("oom", oom);
    n.put("started_ns", startedNs);
    n.put("finished_ns", finishedNs);
    n.put("error", error);
    n.put("source", source);
    n.put("reason", reason);
    return JSON.writeValueAsBytes(n);
  }

  public void write(Path file) throws IOException {
    AtomicFiles.write(file, toJson());
  }

  public static ExitRecord read(Path file) throws IOException {
    JsonNode n = JSON.readTree(file.toFile());
    return new ExitRecord(
        n.path("code").asInt(),
        n.path("signal").isInt() ? n.path("signal").asInt() : null,
        n.path("oom").asBoolean(false),
        n.path("started_ns").asLong(),
        n.path("finished_ns").asLong(),
        n.path("error").isTextual() ? n.path("error").asText() : null,
        n.path("source").asText(),
        n.path("reason").isTextual() ? n.path("reason").asText() : null);
  }
}
