package dev.inferno.kiln.qemu;

import dev.inferno.kiln.guest.GuestTransport;
import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.vm.DetachedLauncher;
import dev.inferno.kiln.vm.Drive;
import dev.inferno.kiln.vm.Executables;
import dev.inferno.kiln.vm.VmLayout;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.Vmm;
import dev.inferno.kiln.vm.VmmException;
import dev.inferno.kiln.vm.VmmKind;
import dev.inferno.kiln.vm.VmmProcess;
import dev.inferno.sys.Kvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The QEMU {@code microvm} driver: for hosts without KVM (TCG) and KVM hosts without Firecracker.
 * QEMU has no API to configure; everything is on its command line. Guest channels are virtio-serial
 * ports whose chardevs connect to kiln's unix sockets with {@code reconnect=1}, so a restarted kiln
 * is found again within a second.
 */
public final class Qemu implements Vmm {

  /**
   * Kernel command line: reboot=t + -no-reboot makes the guest's reboot(2) end QEMU.
   * no_timer_check: under TCG on a loaded host the IO-APIC timer check can miss its ticks and panic
   * ("IO-APIC + timer doesn't work!").
   */
  public static final String BOOT_ARGS =
      "console=ttyS0 reboot=t panic=-1 no_timer_check rdinit=/inferno/init quiet";

  /** kvm, tcg, or auto (kvm when /dev/kvm answers). */
  public enum Accel {
    AUTO,
    KVM,
    TCG;

    public static Accel parse(String s) {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
  }

  /**
   * @param binary qemu-system-x86_64 (a name is looked up on PATH)
   * @param accel the accelerator; auto trusts a /dev/kvm that opens and creates a VM, which a
   *     nested host with broken emulation can pass: force tcg there
   */
  public record Config(String binary, Accel accel) {
    public static Config defaults() {
      return new Config("qemu-system-x86_64", Accel.AUTO);
    }
  }

  /** QMP answers at once unless QEMU is wedged; TCG under load can take a moment. */
  private static final java.time.Duration QMP_TIMEOUT = java.time.Duration.ofSeconds(10);

  private final Config config;

  public Qemu(Config config) {
    this.config = config;
  }

  @Override
  public VmmKind kind() {
    return VmmKind.QEMU;
  }

  @Override
  public Optional<String> unavailableReason() {
    return Executables.find(config.binary()).isPresent()
        ? Optional.empty()
        : Optional.of(
            config.binary() + " is not installed (Debian: apt-get install qemu-system-x86)");
  }

  @Override
  public GuestTransport transport(VmSpec spec, VmLayout layout) {
    GuestTransport.VirtioSerial t = new GuestTransport.VirtioSerial(layout.dir());
    for (Channel channel : Channel.values()) {
      VmLayout.checkSocketPath(t.listenPath(channel));
    }
    VmLayout.checkSocketPath(layout.qmpSocket());
    return t;
  }

  /** Whether this driver will use KVM. */
  public boolean useKvm() {
    return switch (config.accel()) {
      case KVM -> true;
      case TCG -> false;
      case AUTO -> Kvm.probe().usable();
    };
  }

  /** The full QEMU command line for a VM. */
  public List<String> commandLine(VmSpec spec, VmLayout layout, boolean kvm) {
    List<String> c = new ArrayList<>();
    c.add(config.binary());
    c.addAll(List.of("-M", "microvm,acpi=off,x-option-roms=off"));
    // never pit=off/pic=off here: under TCG the guest then hangs in calibration
    if (kvm) {
      c.addAll(List.of("-accel", "kvm", "-cpu", "host"));
    } else {
      c.addAll(List.of("-accel", "tcg", "-cpu", "max"));
    }
    c.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
    c.addAll(List.of("-m", Integer.toString(spec.memoryMib())));
    c.addAll(List.of("-smp", Integer.toString(spec.vcpus())));
    c.addAll(List.of("-kernel", spec.kernel().toString()));
    c.addAll(List.of("-initrd", layout.initramfs().toString()));
    c.addAll(List.of("-append", BOOT_ARGS));
    // the console goes to a file: an undrained console can never stall the guest
    c.addAll(List.of("-chardev", "file,id=console,path=" + opt(layout.console())));
    c.addAll(List.of("-serial", "chardev:console"));
    // pause/resume: QEMU listens, kiln connects per command; wait=off: QEMU boots without a client
    c.addAll(List.of("-qmp", "unix:" + opt(layout.qmpSocket()) + ",server=on,wait=off"));
    if (spec.imageDisk() != null) {
      c.addAll(
          List.of(
              "-drive",
              "if=none,id=image,file=" + opt(spec.imageDisk()) + ",format=raw,readonly=on",
              "-device",
              "virtio-blk-device,drive=image"));
    }
    if (spec.hasWritableDisk()) {
      c.addAll(
          List.of(
              "-drive",
              "if=none,id=scratch,file="
                  + opt(layout.writableDisk())
                  + ",format=raw,cache=none,aio=threads",
              "-device",
              "virtio-blk-device,drive=scratch"));
    }
    // right after the disks, in the order GuestDevices names them
    for (int i = 0; i < spec.drives().size(); i++) {
      Drive d = spec.drives().get(i);
      c.addAll(
          List.of(
              "-drive",
              "if=none,id=vol"
                  + i
                  + ",file="
                  + opt(d.file())
                  + ",format=raw,cache=none,aio=threads"
                  + (d.readOnly() ? ",readonly=on" : ""),
              "-device",
              "virtio-blk-device,drive=vol" + i));
    }
    c.addAll(List.of("-device", "virtio-serial-device"));
    GuestTransport t = new GuestTransport.VirtioSerial(layout.dir());
    for (Channel ch : Channel.values()) {
      String channel = ch.name().toLowerCase(Locale.ROOT);
      c.addAll(
          List.of(
              "-chardev",
              "socket,id=" + channel + ",path=" + opt(t.listenPath(ch)) + ",server=off,reconnect=1",
              "-device",
              "virtserialport,chardev=" + channel + ",name=" + ch.portName()));
    }
    if (spec.nic() != null) {
      // last, so the disks and ports keep their virtio-mmio slots; the TAP exists already (the
      // daemon's), QEMU only attaches to it. Nic's checks keep both values free of ','
      c.addAll(
          List.of(
              "-netdev",
              "tap,id=net0,ifname=" + spec.nic().tapName() + ",script=no,downscript=no",
              "-device",
              "virtio-net-device,netdev=net0,mac=" + spec.nic().mac()));
    }
    return c;
  }

  /** QEMU option values separate on ',': a literal comma is written twice. */
  static String opt(Path p) {
    return p.toString().replace(",", ",,");
  }

  @Override
  public VmmProcess start(VmSpec spec, VmLayout layout) throws IOException {
    if (!Files.exists(layout.initramfs())) {
      throw new VmmException("no initramfs at " + layout.initramfs() + ": prepare the VM first");
    }
    List<String> argv = commandLine(spec, layout, useKvm());
    long pid = DetachedLauncher.launch(argv, layout.vmmLog(), layout.dir());
    try {
      return VmmProcess.of(VmmKind.QEMU, pid);
    } catch (IOException e) {
      throw new VmmException(
          "QEMU exited at once: " + DetachedLauncher.tail(layout.vmmLog(), 10), e);
    }
  }

  /** QEMU has no guest-visible graceful stop in microvm (no ACPI): the kill comes next. */
  @Override
  public boolean requestShutdown(VmSpec spec, VmLayout layout, VmmProcess process) {
    return false;
  }

  /** QMP {@code stop}: every vCPU halts; the guest's clock jumps when it resumes. */
  @Override
  public void pause(VmSpec spec, VmLayout layout, VmmProcess process) throws IOException {
    qmp(layout).stop();
  }

  @Override
  public void resume(VmSpec spec, VmLayout layout, VmmProcess process) throws IOException {
    qmp(layout).cont();
  }

  @Override
  public boolean paused(VmSpec spec, VmLayout layout, VmmProcess process) throws IOException {
    return "paused".equals(qmp(layout).status());
  }

  private static Qmp qmp(VmLayout layout) {
    return new Qmp(layout.qmpSocket(), QMP_TIMEOUT);
  }

  @Override
  public void cleanup(VmSpec spec, VmLayout layout) throws IOException {
    GuestTransport t = new GuestTransport.VirtioSerial(layout.dir());
    for (Channel channel : Channel.values()) {
      Files.deleteIfExists(t.listenPath(channel));
    }
    Files.deleteIfExists(layout.qmpSocket());
    Files.deleteIfExists(layout.initramfs());
  }
}
