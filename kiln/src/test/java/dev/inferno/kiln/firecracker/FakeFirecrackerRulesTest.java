package dev.inferno.kiln.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.Initramfs;
import dev.inferno.kiln.vm.VmmException;
import dev.inferno.model.http.UnixHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fake's API rules (so the driver tests mean something) and the driver's translation of
 * Firecracker's error bodies, against one fake Firecracker process.
 */
class FakeFirecrackerRulesTest {
  @TempDir Path dir;
  Process fc;

  @AfterEach
  void kill() throws Exception {
    if (fc != null) {
      fc.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  /** A Firecracker answer read whole. */
  private record Reply(int status, String body) {}

  private static Reply put(UnixHttpClient http, String path, String json)
      throws java.io.IOException {
    try (var r = http.send("PUT", path, json)) {
      return new Reply(r.status(), r.text());
    }
  }

  private static Reply get(UnixHttpClient http, String path) throws java.io.IOException {
    try (var r = http.send("GET", path, null)) {
      return new Reply(r.status(), r.text());
    }
  }

  private UnixHttpClient startFake() throws Exception {
    Path bin = FakeBinaries.write(dir.resolve("bin"), "firecracker", FakeFirecracker.class, null);
    Path sock = dir.resolve("api.sock");
    fc =
        new ProcessBuilder(bin.toString(), "--api-sock", sock.toString())
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("fc.out").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    UnixHttpClient http = new UnixHttpClient(sock);
    while (true) {
      try {
        get(http, "/");
        return http;
      } catch (java.io.IOException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(20);
      }
    }
  }

  @Test
  void enforcesTheSwaggerAndTheBootRules() throws Exception {
    UnixHttpClient http = startFake();
    Files.writeString(dir.resolve("vmlinux"), "k");
    Path init = Files.writeString(dir.resolve("init"), "i");
    Initramfs.write(dir.resolve("initrd"), init, TestGuest.runConfig("rules", "hang", 0).toJson());

    var unknown = put(http, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128,\"foo\":1}");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(FirecrackerApi.faultMessage(unknown.body())).contains("unknown field `foo`");
    var missing = put(http, "/machine-config", "{\"vcpu_count\":1}");
    assertThat(FirecrackerApi.faultMessage(missing.body()))
        .contains("missing field `mem_size_mib`");
    assertThat(put(http, "/machine-config", "{\"vcpu_count\":3,\"mem_size_mib\":128}").status())
        .isEqualTo(400);
    var wrongType = put(http, "/vsock", "{\"guest_cid\":\"3\",\"uds_path\":\"v.sock\"}");
    assertThat(FirecrackerApi.faultMessage(wrongType.body())).contains("invalid type");
    assertThat(put(http, "/drives/a", "{\"drive_id\":\"b\",\"is_root_device\":false}").body())
        .contains("does not match");
    assertThat(put(http, "/actions", "{\"action_type\":\"InstanceStart\"}").body())
        .contains("without kernel configuration");
    assertThat(put(http, "/actions", "{\"action_type\":\"SendCtrlAltDel\"}").body())
        .contains("before starting");
    assertThat(put(http, "/nope", "{}").body()).contains("Invalid request method and/or path");
    FirecrackerApi early = new FirecrackerApi(dir.resolve("api.sock"));
    assertThatThrownBy(() -> early.vmState("Paused"))
        .isInstanceOf(VmmException.class)
        .hasMessage(
            "Firecracker rejected PATCH /vm (HTTP 400): The requested operation is not supported"
                + " before starting the microVM.");
    assertThatThrownBy(() -> early.patch("/vm", FirecrackerApi.object().put("state", "Stopped")))
        .hasMessageContaining("unknown variant `Stopped`, expected `Paused` or `Resumed`");
    assertThatThrownBy(() ->
            early.patch("/vm", FirecrackerApi.object().put("state", "Paused").put("force", true)))
        .hasMessageContaining("unknown field `force`");
    assertThatThrownBy(() -> early.patch("/vm", FirecrackerApi.object()))
        .hasMessageContaining("missing field `state`");
    assertThat(early.instanceState()).isEqualTo("Not started");

    // network interfaces: the swagger's NetworkInterface, the TAP opened at the call
    var nicUnknown =
        put(
            http,
            "/network-interfaces/eth0",
            "{\"iface_id\":\"eth0\",\"host_dev_name\":\"x\",\"allow_mmds_requests\":true}");
    assertThat(FirecrackerApi.faultMessage(nicUnknown.body()))
        .contains("unknown field `allow_mmds_requests`");
    assertThat(put(http, "/network-interfaces/eth0", "{\"iface_id\":\"eth0\"}").body())
        .contains("missing field `host_dev_name`");
    assertThat(
            put(http, "/network-interfaces/eth0", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"t\"}")
                .body())
        .contains("does not match");
    assertThat(
            put(
                    http,
                    "/network-interfaces/eth0",
                    "{\"iface_id\":\"eth0\",\"host_dev_name\":\"t\",\"guest_mac\":\"02:42\"}")
                .body())
        .contains("invalid MAC address");
    assertThat(
            put(
                    http,
                    "/network-interfaces/eth0",
                    "{\"iface_id\":\"eth0\",\"host_dev_name\":\"inf-no-such-tap\"}")
                .body())
        .contains("Invalid TUN/TAP Backend provided by inf-no-such-tap");

    Files.writeString(dir.resolve("v.sock"), "leftover");
    assertThat(put(http, "/vsock", "{\"guest_cid\":3,\"uds_path\":\"v.sock\"}").body())
        .contains("Address in use");
    Files.delete(dir.resolve("v.sock"));
    assertThat(put(http, "/vsock", "{\"guest_cid\":3,\"uds_path\":\"v.sock\"}").status())
        .isEqualTo(204);

    Files.createFile(dir.resolve("fc.log"));
    assertThat(put(http, "/logger", "{\"log_path\":\"fc.log\"}").status()).isEqualTo(204);
    assertThat(put(http, "/logger", "{\"log_path\":\"fc.log\"}").body())
        .contains("already initialized");

    FirecrackerApi api = new FirecrackerApi(dir.resolve("api.sock"));
    assertThatThrownBy(() -> api.bootSource("missing-kernel", "initrd", "console=ttyS0"))
        .isInstanceOf(VmmException.class)
        .hasMessageStartingWith("Firecracker rejected PUT /boot-source (HTTP 400): Failed to open");
    api.bootSource("vmlinux", "initrd", "console=ttyS0");
    api.serial("console.out");
    api.action("InstanceStart");
    assertThatThrownBy(() -> api.action("InstanceStart"))
        .hasMessageContaining("not supported after starting");
    assertThatThrownBy(() -> api.machineConfig(2, 256))
        .hasMessageContaining("not supported after starting");
    assertThatThrownBy(() -> api.networkInterface("eth0", "inf-no-such-tap", "02:42:ac:1e:00:02"))
        .hasMessageContaining("not supported after starting");
    assertThat(api.instanceState()).isEqualTo("Running");
    api.vmState("Paused");
    api.vmState("Paused"); // again: nothing changes, as in Firecracker
    assertThat(api.instanceState()).isEqualTo("Paused");
    api.vmState("Resumed");
    assertThat(api.instanceState()).isEqualTo("Running");
    api.action("SendCtrlAltDel");
    assertThat(get(http, "/").body()).contains("\"state\":\"Running\"");
  }

  @Test
  void faultMessageFallsBackToTheBody() {
    assertThat(FirecrackerApi.faultMessage("{\"fault_message\":\"boom\"}")).isEqualTo("boom");
    assertThat(FirecrackerApi.faultMessage("plain text\n")).isEqualTo("plain text");
    assertThat(FirecrackerApi.faultMessage("")).isEqualTo("(no error message)");
  }
}
