package dev.inferno.daemon.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.daemon.DaemonMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
  @TempDir Path dir;

  @Test
  void initWritesACommentedDefaultThatReadsBackAsTheDefaults() throws Exception {
    Path file = dir.resolve("etc/inferno.conf");
    assertThat(DaemonMain.run(new String[] {"init", "-p", file.toString()})).isZero();
    String text = Files.readString(file);
    assertThat(text).contains("# Which VMM runs VMs").contains("state-dir = /var/lib/inferno");
    DaemonConfig c = ConfigFile.build(ConfigFile.read(file));
    assertThat(c.stateDir()).isEqualTo(Path.of("/var/lib/inferno"));
    assertThat(c.socket()).isEqualTo(Path.of("/run/inferno/inferno.sock"));
    assertThat(c.vmm()).isEqualTo("auto");
    assertThat(c.defaultMemoryBytes()).isEqualTo(256L << 20);
    assertThat(c.jailUidFirst()).isEqualTo(900000);
    assertThat(c.logSink()).isNull();
    assertThat(c.insecureRegistries()).isEmpty();
    assertThat(c.imageScratch()).isEqualTo(Path.of("/dev/shm"));
    // never overwrites
    assertThat(DaemonMain.run(new String[] {"init", "-p", file.toString()})).isEqualTo(1);
  }

  @Test
  void fileValuesOverrideDefaultsAndBadOnesAreExplained() throws Exception {
    Path file = dir.resolve("c.conf");
    Files.writeString(
        file, "vmm = qemu\ndefault-memory = 1g\ninsecure-registries = a:5000, b:5000\n");
    DaemonConfig c = ConfigFile.build(ConfigFile.read(file));
    assertThat(c.vmm()).isEqualTo("qemu");
    assertThat(c.defaultMemoryBytes()).isEqualTo(1L << 30);
    assertThat(c.insecureRegistries()).containsExactly("a:5000", "b:5000");
    Files.writeString(file, "image-scratch =\n");
    assertThat(ConfigFile.build(ConfigFile.read(file)).imageScratch()).isNull();

    Files.writeString(file, "colour = red\n");
    assertThatThrownBy(() -> ConfigFile.read(file))
        .hasMessageContaining("unknown setting \"colour\"");
    Files.writeString(file, "vmm = xen\n");
    assertThatThrownBy(() -> ConfigFile.build(ConfigFile.read(file)))
        .hasMessageContaining("vmm must be auto, firecracker or qemu");
    Files.writeString(file, "jail-uid-range = 5-1\n");
    assertThatThrownBy(() -> ConfigFile.build(ConfigFile.read(file)))
        .hasMessageContaining("jail-uid-range");
    assertThatThrownBy(() -> ConfigFile.read(dir.resolve("none.conf")))
        .hasMessageContaining("inferno init -p");
    Files.writeString(file, "log-max-size = 1k\n");
    assertThatThrownBy(() -> ConfigFile.build(ConfigFile.read(file)))
        .hasMessageContaining("log-max-size must be at least 4k");
    assertThat(c.network().pool()).hasToString("172.30.0.0/16");
    assertThat(c.network().table()).isEqualTo("inferno");
    assertThat(c.network().devicePrefix()).isEqualTo("inf");
    Files.writeString(file, "network-table = inferno_two\nnetwork-tap-prefix = ib\n");
    c = ConfigFile.build(ConfigFile.read(file));
    assertThat(c.network().table()).isEqualTo("inferno_two");
    assertThat(c.network().devicePrefix()).isEqualTo("ib");
    Files.writeString(file, "network-tap-prefix = infer\n");
    assertThatThrownBy(() -> ConfigFile.build(ConfigFile.read(file)))
        .hasMessageContaining("network-tap-prefix: \"infer\" must be 1 to 3 lower-case letters");
    Files.writeString(file, "network-table = inferno-two\n");
    assertThatThrownBy(() -> ConfigFile.build(ConfigFile.read(file)))
        .hasMessageContaining("network-table: \"inferno-two\" must be");
    Files.writeString(file, "network-pool = 10.213.0.0/20\n");
    assertThat(ConfigFile.build(ConfigFile.read(file)).network().pool())
        .hasToString("10.213.0.0/20");
    Files.writeString(file, "network-pool = 10.213.0.1/16\n");
    assertThatThrownBy(() -> ConfigFile.build(ConfigFile.read(file)))
        .hasMessageContaining("network-pool: '10.213.0.1/16' has host bits set");
    Files.writeString(file, "network-pool = 10.0.0.0/31\n");
    assertThatThrownBy(() -> ConfigFile.build(ConfigFile.read(file)))
        .hasMessageContaining("smaller than one VM's /30");
    Files.writeString(file, "log-max-size = 8m\nlog-max-files = 2\nlog-sink = /run/v.sock\n");
    c = ConfigFile.build(ConfigFile.read(file));
    assertThat(c.logMaxBytes()).isEqualTo(8L << 20);
    assertThat(c.logMaxFiles()).isEqualTo(2);
    assertThat(c.logSink()).isEqualTo(Path.of("/run/v.sock"));
  }

  @Test
  void theProductHasNoTestBackends() throws Exception {
    // the process VMs and the in-memory registry are test doubles (the daemon's test-jar)
    Path file = dir.resolve("c.conf");
    for (String key : new String[] {"backend = process", "testing-images = busybox"}) {
      Files.writeString(file, key + "\n");
      assertThatThrownBy(() -> ConfigFile.read(file)).hasMessageContaining("unknown setting");
    }
    // an unknown option is a usage error: 125, as for every inferno verb (was picocli's 2)
    assertThat(DaemonMain.run(new String[] {"server", "--backend", "process"})).isEqualTo(125);
  }

  @Test
  void preflightListsEverythingMissing() throws Exception {
    Map<String, String> s = ConfigFile.read(null);
    s.put("state-dir", dir.toString());
    s.put("kernel", dir.resolve("no-vmlinux").toString());
    s.put("init", dir.resolve("no-init").toString());
    s.put("vmm", "firecracker");
    s.put("firecracker", dir.resolve("no-fc").toString());
    var problems = Preflight.check(ConfigFile.build(s), false);
    assertThat(problems)
        .hasSize(4)
        .anyMatch(p -> p.startsWith("no guest kernel"))
        .anyMatch(p -> p.startsWith("no guest init"))
        .anyMatch(p -> p.contains("needs /dev/kvm"))
        .anyMatch(p -> p.startsWith("no firecracker binary"));

    Files.writeString(dir.resolve("vmlinux"), "k");
    Files.writeString(dir.resolve("init"), "i");
    s.put("kernel", dir.resolve("vmlinux").toString());
    s.put("init", dir.resolve("init").toString());
    s.put("vmm", "auto");
    s.put("qemu", "/bin/sh"); // any executable stands in for the binary check
    DaemonConfig c = ConfigFile.build(s);
    assertThat(Preflight.resolveVmm(c, false)).isEqualTo("qemu");
    assertThat(Preflight.check(c, false)).isEmpty();
  }
}
