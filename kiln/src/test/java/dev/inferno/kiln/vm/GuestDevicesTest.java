package dev.inferno.kiln.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.protocol.RunConfig;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kiln alone decides which guest device each disk becomes, and says so in run.json. */
class GuestDevicesTest {
  private static final Drive DATA = new Drive(Path.of("/v/data/volume.ext4"), "/data", false);
  private static final Drive CONF = new Drive(Path.of("/v/conf/volume.ext4"), "/etc/app", true);

  @Test
  void imageThenWritableThenDrivesInOrder(@TempDir Path dir) {
    VmSpec s =
        SpecAndRecordsTest.spec(dir, "vm-d")
            .withStorage(
                List.of(DATA, CONF), List.of(new TmpfsMount("/run/cache", 1L << 20, 448)), false);
    assertThat(GuestDevices.of(s))
        .isEqualTo(new GuestDevices("/dev/vda", "/dev/vdb", List.of("/dev/vdc", "/dev/vdd")));
    RunConfig c = GuestDevices.runConfig(s);
    assertThat(c.root()).isEqualTo(new RunConfig.Root("/dev/vda", "/dev/vdb", false));
    assertThat(c.mounts())
        .containsExactly(
            new RunConfig.Mount.Volume("/dev/vdc", "/data", false),
            new RunConfig.Mount.Volume("/dev/vdd", "/etc/app", true),
            new RunConfig.Mount.Tmpfs("/run/cache", 1L << 20, 448));
    // everything else is the caller's
    assertThat(c.toBuilder().root(s.runConfig().root()).mounts(List.of()).build())
        .isEqualTo(s.runConfig());
  }

  @Test
  void aReadOnlyRootHasNoWritableDiskSoDrivesMoveUp(@TempDir Path dir) {
    VmSpec s = SpecAndRecordsTest.spec(dir, "vm-r").withStorage(List.of(DATA), List.of(), true);
    assertThat(s.writableDiskBytes()).isPositive();
    assertThat(s.hasWritableDisk()).isFalse();
    RunConfig c = GuestDevices.runConfig(s);
    assertThat(c.root()).isEqualTo(new RunConfig.Root("/dev/vda", null, true));
    assertThat(c.mounts()).containsExactly(new RunConfig.Mount.Volume("/dev/vdb", "/data", false));
    assertThat(c.toJson()).contains("\"readonly\":true").contains("\"device\":\"/dev/vdb\"");
  }

  @Test
  void anEphemeralVmWithoutDrivesKeepsTheOldRunConfig(@TempDir Path dir) {
    VmSpec s = SpecAndRecordsTest.spec(dir, "vm-e");
    assertThat(GuestDevices.runConfig(s)).isEqualTo(s.runConfig());
  }

  @Test
  void namesFollowLinuxBeyondTwentySixDisks() {
    assertThat(GuestDevices.name(0)).isEqualTo("/dev/vda");
    assertThat(GuestDevices.name(25)).isEqualTo("/dev/vdz");
    assertThat(GuestDevices.name(26)).isEqualTo("/dev/vdaa");
    assertThat(GuestDevices.name(27)).isEqualTo("/dev/vdab");
    assertThat(GuestDevices.name(701)).isEqualTo("/dev/vdzz");
    assertThat(GuestDevices.name(702)).isEqualTo("/dev/vdaaa");
  }

  @Test
  void storageIsCheckedAndRoundTripsThroughSpecJson(@TempDir Path dir) throws Exception {
    VmSpec base = SpecAndRecordsTest.spec(dir, "vm-s");
    assertThatThrownBy(() -> new Drive(Path.of("/v"), "data", false))
        .hasMessageContaining("absolute");
    assertThatThrownBy(() -> new TmpfsMount("/t", -1L, null))
        .hasMessage("tmpfs mount: size_bytes must be a non-negative integer");
    assertThatThrownBy(() ->
            base.withStorage(List.of(DATA), List.of(new TmpfsMount("/data", null, null)), false))
        .hasMessage("duplicate mount point: /data");
    assertThatThrownBy(() -> base.withStorage(Collections.nCopies(16, DATA), List.of(), false))
        .hasMessageContaining("at most 15 volumes");
    VmSpec s =
        base.withStorage(List.of(DATA, CONF), List.of(new TmpfsMount("/tmp/x", null, 511)), true);
    SpecJson.write(s, dir.resolve("spec.json"));
    assertThat(SpecJson.read(dir.resolve("spec.json"))).isEqualTo(s);
    // the old constructor: no storage
    assertThat(base.drives()).isEmpty();
    assertThat(base.tmpfs()).isEmpty();
    assertThat(base.readOnlyRoot()).isFalse();
  }
}
