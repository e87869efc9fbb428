package dev.inferno.kiln.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.kiln.vm.VmmException;
import dev.inferno.model.http.UnixHttpClient;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Firecracker's API, the calls kiln makes (field names from
 * src/firecracker/swagger/firecracker.yaml). Every failure becomes a {@link VmmException} carrying
 * Firecracker's fault_message and the call.
 */
public final class FirecrackerApi {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final UnixHttpClient http;

  public FirecrackerApi(Path apiSocket) {
    this.http = new UnixHttpClient(apiSocket);
  }

  public static ObjectNode object() {
    return JSON.createObjectNode();
  }

  public void put(String path, ObjectNode body) throws VmmException {
    call("PUT", path, body);
  }

  /** PATCH: the calls allowed after InstanceStart (e.g. {@code /vm}). */
  public void patch(String path, ObjectNode body) throws VmmException {
    call("PATCH", path, body);
  }

  private String call(String method, String path, ObjectNode body) throws VmmException {
    int status;
    String answer;
    try (UnixHttpClient.Response r =
        http.send(method, path, body == null ? null : JSON.writeValueAsString(body))) {
      status = r.status();
      answer = r.text();
    } catch (IOException e) {
      throw new VmmException(
          "Firecracker API " + method + " " + path + " failed: " + e.getMessage(), e);
    }
    if (status / 100 != 2) {
      throw new VmmException(
          "Firecracker rejected "
              + method
              + " "
              + path
              + " (HTTP "
              + status
              + "): "
              + faultMessage(answer));
    }
    return answer;
  }

  /** {@code PATCH /vm}: "Paused" or "Resumed" (the vCPUs stop or run again). */
  public void vmState(String state) throws VmmException {
    patch("/vm", object().put("state", state));
  }

  /** {@code GET /}, the InstanceInfo's {@code state}: "Not started", "Running" or "Paused". */
  public String instanceState() throws VmmException {
    String body = call("GET", "/", null);
    try {
      return JSON.readTree(body).path("state").asText();
    } catch (IOException e) {
      throw new VmmException("Firecracker's GET / answered no InstanceInfo: " + body, e);
    }
  }

  /** The fault_message of an error body, or the body itself when it is not one. */
  static String faultMessage(String body) {
    try {
      JsonNode n = JSON.readTree(body);
      if (n != null && n.path("fault_message").isTextual()) {
        return n.path("fault_message").asText();
      }
    } catch (IOException e) {
      // not JSON: show it as it is
    }
    return body.isBlank() ? "(no error message)" : body.strip();
  }

  public void logger(String logPath, String level) throws VmmException {
    ObjectNode b = object().put("log_path", logPath).put("level", level).put("show_level", true);
    b.put("show_log_origin", false);
    put("/logger", b);
  }

  public void metrics(String metricsPath) throws VmmException {
    put("/metrics", object().put("metrics_path", metricsPath));
  }

  public void bootSource(String kernel, String initrd, String bootArgs) throws VmmException {
    put(
        "/boot-source",
        object()
            .put("kernel_image_path", kernel)
            .put("initrd_path", initrd)
            .put("boot_args", bootArgs));
  }

  public void drive(String id, String path, boolean readOnly) throws VmmException {
    put(
        "/drives/" + id,
        object()
            .put("drive_id", id)
            .put("path_on_host", path)
            .put("is_root_device", false)
            .put("is_read_only", readOnly));
  }

  public void machineConfig(int vcpus, int memMib) throws VmmException {
    put("/machine-config", object().put("vcpu_count", vcpus).put("mem_size_mib", memMib));
  }

  public void vsock(int guestCid, String udsPath) throws VmmException {
    put("/vsock", object().put("guest_cid", guestCid).put("uds_path", udsPath));
  }

  public void serial(String outPath) throws VmmException {
    put("/serial", object().put("serial_out_path", outPath));
  }

  /** A virtio-net device on the host TAP {@code hostDevName}; only before InstanceStart. */
  public void networkInterface(String ifaceId, String hostDevName, String guestMac)
      throws VmmException {
    put(
        "/network-interfaces/" + ifaceId,
        object()
            .put("iface_id", ifaceId)
            .put("host_dev_name", hostDevName)
            .put("guest_mac", guestMac));
  }

  public void action(String type) throws VmmException {
    put("/actions", object().put("action_type", type));
  }
}
