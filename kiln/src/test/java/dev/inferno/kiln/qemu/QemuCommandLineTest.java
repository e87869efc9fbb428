package dev.inferno.kiln.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.kiln.guest.GuestTransport;
import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.Drive;
import dev.inferno.kiln.vm.Nic;
import dev.inferno.kiln.vm.VmLayout;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmKind;
import dev.inferno.sys.Kvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class QemuCommandLineTest {
  private final Qemu qemu = new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.TCG));

  private static VmSpec spec(Path image, long writable) {
    return new VmSpec(
        "vm1",
        Path.of("/k/vmlinux"),
        Path.of("/i/init"),
        TestGuest.runConfig("q", "exit", 0),
        image,
        writable,
        2,
        384,
        Duration.ofSeconds(3),
        VmmKind.QEMU,
        Path.of("/s/vm1"),
        null);
  }

  @Test
  void tcgCommandLineIsExact() {
    VmSpec s = spec(Path.of("/img/a,b.ext4"), 64L << 20);
    List<String> c = qemu.commandLine(s, s.layout(), false);
    assertThat(String.join(" ", c))
        .isEqualTo(
            "qemu-system-x86_64 -M microvm,acpi=off,x-option-roms=off -accel tcg -cpu max"
                + " -nodefaults -no-user-config -display none -no-reboot -m 384 -smp 2"
                + " -kernel /k/vmlinux -initrd /s/vm1/initramfs.cpio"
                + " -append console=ttyS0 reboot=t panic=-1 no_timer_check rdinit=/inferno/init quiet"
                + " -chardev file,id=console,path=/s/vm1/console.log -serial chardev:console"
                + " -qmp unix:/s/vm1/qmp.sock,server=on,wait=off"
                + " -drive if=none,id=image,file=/img/a,,b.ext4,format=raw,readonly=on"
                + " -device virtio-blk-device,drive=image"
                + " -drive if=none,id=scratch,file=/s/vm1/scratch.ext4,format=raw,cache=none,aio=threads"
                + " -device virtio-blk-device,drive=scratch"
                + " -device virtio-serial-device"
                + " -chardev socket,id=logs,path=/s/vm1/logs.sock,server=off,reconnect=1"
                + " -device virtserialport,chardev=logs,name=dev.inferno.logs"
                + " -chardev socket,id=exit,path=/s/vm1/exit.sock,server=off,reconnect=1"
                + " -device virtserialport,chardev=exit,name=dev.inferno.exit"
                + " -chardev socket,id=control,path=/s/vm1/control.sock,server=off,reconnect=1"
                + " -device virtserialport,chardev=control,name=dev.inferno.control"
                + " -chardev socket,id=metrics,path=/s/vm1/metrics.sock,server=off,reconnect=1"
                + " -device virtserialport,chardev=metrics,name=dev.inferno.metrics"
                + " -chardev socket,id=session,path=/s/vm1/session.sock,server=off,reconnect=1"
                + " -device virtserialport,chardev=session,name=dev.inferno.session");
    // -append's value is one argv element
    assertThat(c).contains(Qemu.BOOT_ARGS);
    assertThat(String.join(" ", c)).doesNotContain("pit=off").doesNotContain("pic=off");
  }

  @Test
  void drivesFollowTheDisksInOrderAndAReadOnlyRootHasNoWritableDisk() {
    VmSpec s =
        spec(Path.of("/img/a.ext4"), 64L << 20)
            .withStorage(
                List.of(
                    new Drive(Path.of("/v/data,1/volume.ext4"), "/data", false),
                    new Drive(Path.of("/v/conf/volume.ext4"), "/etc/app", true)),
                List.of(),
                false);
    String c = String.join(" ", qemu.commandLine(s, s.layout(), false));
    assertThat(c)
        .contains(
            " -device virtio-blk-device,drive=scratch"
                + " -drive if=none,id=vol0,file=/v/data,,1/volume.ext4,format=raw,cache=none,aio=threads"
                + " -device virtio-blk-device,drive=vol0"
                + " -drive if=none,id=vol1,file=/v/conf/volume.ext4,format=raw,cache=none,aio=threads,readonly=on"
                + " -device virtio-blk-device,drive=vol1 -device virtio-serial-device");
    VmSpec ro = s.withStorage(s.drives(), List.of(), true);
    assertThat(ro.hasWritableDisk()).isFalse();
    assertThat(String.join(" ", qemu.commandLine(ro, ro.layout(), false)))
        .doesNotContain("scratch")
        .contains("-device virtio-blk-device,drive=image -drive if=none,id=vol0,");
  }

  @Test
  void aNicIsAVirtioNetDeviceOnItsTapAfterEveryOtherDevice() {
    VmSpec s =
        spec(Path.of("/img/a.ext4"), 64L << 20)
            .withNic(new Nic("inf0123abcd", "02:42:ac:1e:00:02"));
    List<String> c = qemu.commandLine(s, s.layout(), false);
    assertThat(c.subList(c.size() - 4, c.size()))
        .containsExactly(
            "-netdev",
            "tap,id=net0,ifname=inf0123abcd,script=no,downscript=no",
            "-device",
            "virtio-net-device,netdev=net0,mac=02:42:ac:1e:00:02");
    // without a NIC: no network device at all (--network none), and QEMU adds none by itself
    VmSpec none = s.withNic(null);
    assertThat(String.join(" ", qemu.commandLine(none, none.layout(), false)))
        .doesNotContain("-netdev")
        .doesNotContain("virtio-net")
        .contains("-nodefaults");
  }

  @Test
  void kvmAndNoDisks() {
    VmSpec s = spec(null, 0);
    String c = String.join(" ", qemu.commandLine(s, s.layout(), true));
    assertThat(c).contains("-accel kvm -cpu host").doesNotContain("-drive").doesNotContain("tcg");
  }

  @Test
  void transportIsOneSocketPerChannel() {
    VmSpec s = spec(null, 0);
    GuestTransport t = qemu.transport(s, s.layout());
    assertThat(t).isEqualTo(new GuestTransport.VirtioSerial(Path.of("/s/vm1")));
    assertThat(t.owner()).isNull();
    assertThat(java.util.Arrays.stream(Channel.values()).map(t::listenPath))
        .containsExactly(
            Path.of("/s/vm1/logs.sock"),
            Path.of("/s/vm1/exit.sock"),
            Path.of("/s/vm1/control.sock"),
            Path.of("/s/vm1/metrics.sock"),
            Path.of("/s/vm1/session.sock"));
    assertThat(new VmLayout(Path.of("/s/vm1")).channelSocket("logs"))
        .isEqualTo(Path.of("/s/vm1/logs.sock"));
  }

  @Test
  void autoAccelFollowsTheKvmProbe() {
    // /dev/kvm can open while KVM cannot run guests (a nested VM without vmx/svm): auto must then
    // pick TCG, or QEMU aborts at start
    Kvm.Probe probe = Kvm.probe();
    Qemu auto = new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.AUTO));
    assertThat(auto.useKvm()).as(probe.reason()).isEqualTo(probe.usable());
    VmSpec s = spec(null, 0);
    assertThat(String.join(" ", auto.commandLine(s, s.layout(), auto.useKvm())))
        .contains(probe.usable() ? "-accel kvm" : "-accel tcg");
    assertThat(new Qemu(new Qemu.Config("q", Qemu.Accel.TCG)).useKvm()).isFalse();
    assertThat(new Qemu(new Qemu.Config("q", Qemu.Accel.KVM)).useKvm()).isTrue();
  }

  @Test
  void missingBinaryIsExplained() {
    assertThat(new Qemu(new Qemu.Config("no-such-qemu-here", Qemu.Accel.TCG)).unavailableReason())
        .hasValueSatisfying(r -> assertThat(r).contains("apt-get install qemu-system-x86"));
    assertThat(qemu.unavailableReason()).isEmpty();
  }
}
