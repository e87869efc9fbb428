package dev.inferno.kiln.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.sys.Processes;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A running (or once running) VMM process, identified by pid and start time so that a pid reused
 * after the VMM died is never signalled.
 */
public record VmmProcess(VmmKind vmm, long pid, long startTime) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public boolean isAlive() {
    try {
      return Processes.isSameProcessAlive(pid, startTime);
    } catch (IOException e) {
      return false;
    }
  }

  /** Sends a signal if this is still the same process; false when it is gone. */
  public boolean signal(int signal) throws IOException {
    if (!isAlive()) {
      return false;
    }
    return Processes.kill(pid, signal);
  }

  /** Identifies a freshly started pid; fails when it already exited. */
  public static VmmProcess of(VmmKind vmm, long pid) throws IOException {
    long start =
        Processes.startTime(pid)
            .orElseThrow(() -> new IOException("process " + pid + " exited right after start"));
    return new VmmProcess(vmm, pid, start);
  }

  public void write(Path pidFile) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("vmm", vmm.label());
    n.put("pid", pid);
    n.put("start_time", startTime);
    AtomicFiles.write(pidFile, JSON.writeValueAsBytes(n));
  }

  public static VmmProcess read(Path pidFile) throws IOException {
    JsonNode n = JSON.readTree(pidFile.toFile());
    return new VmmProcess(
        VmmKind.parse(n.path("vmm").asText()),
        n.path("pid").asLong(),
        n.path("start_time").asLong());
  }
}
