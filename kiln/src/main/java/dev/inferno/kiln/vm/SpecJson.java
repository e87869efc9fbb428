package dev.inferno.kiln.vm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.kiln.protocol.RunConfig;
import dev.inferno.kiln.run.DockerRun;
import dev.inferno.kiln.run.ImageConfig;
import dev.inferno.kiln.run.Overrides;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** spec.json: the VmSpec as written to the state dir and read back on adoption. */
public final class SpecJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SpecJson() {}

  public static byte[] toJson(VmSpec s) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", s.id());
    n.put("kernel", s.kernel().toString());
    n.put("init", s.init().toString());
    n.set("run_config", s.runConfig().toJsonTree());
    n.put("image_disk", s.imageDisk() == null ? null : s.imageDisk().toString());
    n.put("writable_disk_bytes", s.writableDiskBytes());
    n.put("vcpus", s.vcpus());
    n.put("memory_mib", s.memoryMib());
    n.put("stop_timeout_ms", s.stopTimeout().toMillis());
    n.put("vmm", s.vmm().label());
    n.put("state_dir", s.stateDir().toString());
    if (s.nic() == null) {
      n.putNull("nic");
    } else {
      n.putObject("nic").put("tap", s.nic().tapName()).put("mac", s.nic().mac());
    }
    var drives = n.putArray("drives");
    for (Drive d : s.drives()) {
      drives
          .addObject()
          .put("file", d.file().toString())
          .put("target", d.target())
          .put("read_only", d.readOnly());
    }
    var tmpfs = n.putArray("tmpfs");
    for (TmpfsMount t : s.tmpfs()) {
      tmpfs
          .addObject()
          .put("target", t.target())
          .put("size_bytes", t.sizeBytes())
          .put("mode", t.mode());
    }
    n.put("read_only_root", s.readOnlyRoot());
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n);
  }

  public static void write(VmSpec s, Path file) throws IOException {
    AtomicFiles.write(file, toJson(s));
  }

  public static VmSpec read(Path file) throws IOException {
    JsonNode n = JSON.readTree(file.toFile());
    return new VmSpec(
        n.path("id").asText(),
        Path.of(n.path("kernel").asText()),
        Path.of(n.path("init").asText()),
        runConfig(n.path("run_config")),
        n.path("image_disk").isTextual() ? Path.of(n.path("image_disk").asText()) : null,
        n.path("writable_disk_bytes").asLong(),
        n.path("vcpus").asInt(),
        n.path("memory_mib").asInt(),
        Duration.ofMillis(n.path("stop_timeout_ms").asLong()),
        VmmKind.parse(n.path("vmm").asText()),
        Path.of(n.path("state_dir").asText()),
        nic(n.path("nic")),
        drives(n.path("drives")),
        tmpfs(n.path("tmpfs")),
        n.path("read_only_root").asBoolean(false));
  }

  /** Absent (a spec.json written before volumes) is none. */
  private static List<Drive> drives(JsonNode n) {
    List<Drive> out = new ArrayList<>();
    for (JsonNode d : n) {
      out.add(
          new Drive(
              Path.of(d.path("file").asText()),
              d.path("target").asText(),
              d.path("read_only").asBoolean()));
    }
    return out;
  }

  private static List<TmpfsMount> tmpfs(JsonNode n) {
    List<TmpfsMount> out = new ArrayList<>();
    for (JsonNode t : n) {
      out.add(
          new TmpfsMount(
              t.path("target").asText(),
              t.path("size_bytes").isIntegralNumber() ? t.path("size_bytes").asLong() : null,
              t.path("mode").isIntegralNumber() ? t.path("mode").asInt() : null));
    }
    return out;
  }

  /** The spec's NIC; absent (a spec.json written before NICs) or null is none. */
  private static Nic nic(JsonNode n) {
    return n.isObject() ? new Nic(n.path("tap").asText(), n.path("mac").asText()) : null;
  }

  /**
   * The run config of a spec.json; one written by a kiln that spoke version 1 (image config and
   * overrides for init to merge) is merged here, so that VMs started before an upgrade are adopted.
   */
  private static RunConfig runConfig(JsonNode n) throws IOException {
    if (n.path("version").asInt() != 1) {
      return RunConfig.fromJson(n);
    }
    ObjectNode v1 = n.deepCopy();
    try {
      ImageConfig image = JSON.treeToValue(orEmpty(v1.remove("image_config")), ImageConfig.class);
      Overrides overrides = JSON.treeToValue(orEmpty(v1.remove("overrides")), Overrides.class);
      String signal = v1.path("stop").path("signal").asText(null);
      String vmId = v1.path("vm_id").asText();
      String hostname = v1.path("hostname").asText(RunConfig.defaultHostname(vmId));
      v1.put("version", RunConfig.VERSION);
      return RunConfig.fromJson(
          v1, DockerRun.resolve(image, overrides.withStopSignal(signal), hostname));
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new IOException("spec.json holds a version 1 run config kiln cannot read: " + e, e);
    }
  }

  private static JsonNode orEmpty(JsonNode n) {
    return n == null || n.isNull() ? JSON.createObjectNode() : n;
  }
}
