package dev.inferno.kiln.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.protocol.RunConfig;
import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.LinkedGuest;
import dev.inferno.kiln.vm.Nic;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmKind;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VmSpec's Nic under QEMU with the real kernel and init: kiln attaches the guest to a TAP made
 * here (as the daemon makes one per VM), init configures eth0 from the run config, and the guest
 * reaches a listener on the host side of the TAP. Needs root (a TAP) and build/init/init.
 */
class QemuNicTest {
  @TempDir static Path shared;
  static Path image;
  static Path init;

  private String tap;
  private String hostIp;
  private String guestIp;

  @BeforeAll
  static void busyboxImage() throws Exception {
    init = TestGuest.realInit();
    Assumptions.assumeTrue(
        init != null, "skipped: no real init at build/init/init (run init/build.sh)");
    image = TestGuest.busyboxImage(shared, "sh", "nc", "echo", "ls", "cat", "grep");
  }

  /** A TAP with a random name and a random /30 of 198.18.0.0/16 (the benchmarking range). */
  @BeforeEach
  void makeTap() throws Exception {
    Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "skipped: creating a TAP needs root");
    ThreadLocalRandom r = ThreadLocalRandom.current();
    tap = "ktap" + HexFormat.of().toHexDigits(r.nextInt()); // 12 characters
    int base = r.nextInt(1 << 14) * 4;
    hostIp = "198.18." + (base >> 8) + "." + ((base & 0xff) + 1);
    guestIp = "198.18." + (base >> 8) + "." + ((base & 0xff) + 2);
    ip("tuntap", "add", "name", tap, "mode", "tap");
    ip("addr", "add", hostIp + "/30", "dev", tap);
    ip("link", "set", tap, "up");
  }

  @AfterEach
  void deleteTap() throws Exception {
    if (tap != null) {
      new ProcessBuilder("ip", "link", "del", tap).inheritIO().start().waitFor();
    }
  }

  private static void ip(String... args) throws IOException, InterruptedException {
    String[] cmd = new String[args.length + 1];
    cmd[0] = "ip";
    System.arraycopy(args, 0, cmd, 1, args.length);
    TestGuest.run(Path.of("/"), cmd);
  }

  private static Supervisor supervisor() {
    return new Supervisor(
        Map.of(VmmKind.QEMU, new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.TCG))),
        LinkedGuest.factory());
  }

  private static VmSpec spec(Path dir, String id, RunConfig rc, Nic nic) throws Exception {
    return new VmSpec(
        id,
        TestGuest.kernel(),
        init,
        rc,
        image,
        0,
        1,
        192,
        Duration.ofSeconds(2),
        VmmKind.QEMU,
        dir.resolve(id),
        nic);
  }

  /** The VM's exit, then its stdout from the log store (complete once the VM ended). */
  private static String run(RunningVm vm, Path state) throws Exception {
    ExitRecord exit = vm.exit().get(120, TimeUnit.SECONDS);
    String out;
    try (LogStore store = LogStore.open(state.resolve("logs"))) {
      out =
          store.tail(100_000).stream()
              .filter(r -> r.stream() == LogRecord.STDOUT)
              .map(LogRecord::text)
              .collect(Collectors.joining());
    }
    assertThat(exit.code())
        .as("stdout: %s%nconsole: %s", out, Files.readString(state.resolve("console.log")))
        .isZero();
    return out;
  }

  @Test
  void theGuestReachesTheHostSideOfItsTap(@TempDir Path dir) throws Exception {
    String mac = "02:42:c6:12:00:02";
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getByName(hostIp))) {
      server.setSoTimeout(120_000);
      CompletableFuture<String> said =
          CompletableFuture.supplyAsync(() -> {
            try (Socket s = server.accept()) {
              return s.getInetAddress().getHostAddress()
                  + " "
                  + new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
          });
      RunConfig rc =
          TestGuest.shellRunConfig(
                  "net1",
                  "cat /sys/class/net/eth0/address; grep net1 /etc/hosts; echo hello from kiln | nc "
                      + hostIp
                      + " "
                      + server.getLocalPort())
              .toBuilder()
              .network(new RunConfig.Network(mac, guestIp + "/30", hostIp, 1500))
              .build();
      RunningVm vm = supervisor().start(spec(dir, "net1", rc, new Nic(tap, mac)));
      String out = run(vm, dir.resolve("net1"));
      assertThat(said.get(10, TimeUnit.SECONDS)).isEqualTo(guestIp + " hello from kiln\n");
      assertThat(out).isEqualTo(mac + "\n" + guestIp + "\tnet1\n");
    }
  }

  @Test
  void withoutANicTheGuestHasNoNetworkDevice(@TempDir Path dir) throws Exception {
    RunConfig rc =
        TestGuest.shellRunConfig(
            "nonet1",
            "for i in /sys/class/net/*; do [ -e $i/device ] && echo nic ${i##*/}; done;"
                + " ls /sys/class/net | grep -v '^sit0$'");
    String out = run(supervisor().start(spec(dir, "nonet1", rc, null)), dir.resolve("nonet1"));
    assertThat(out)
        .as("only lo (and the kernel's sit0 tunnel, which no device backs)")
        .isEqualTo("lo\n");
  }
}
