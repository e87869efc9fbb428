package dev.inferno.kiln.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.exec.ExecProcess;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.ExecStartException;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.guest.GuestTransport;
import dev.inferno.kiln.guest.SocketOwner;
import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.Drive;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.GuestSession;
import dev.inferno.kiln.vm.LinkedGuest;
import dev.inferno.kiln.vm.Nic;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.StopEscalation;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.TapOwner;
import dev.inferno.kiln.vm.TmpfsMount;
import dev.inferno.kiln.vm.VmLayout;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmException;
import dev.inferno.kiln.vm.VmmKind;
import dev.inferno.kiln.vm.VmmMetrics;
import dev.inferno.kiln.vm.VmmProcess;
import dev.inferno.kiln.vm.WritableDisk;
import dev.inferno.sys.Users;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Firecracker driver against the fake jailer + fake Firecracker (separate processes). */
class FirecrackerDriverTest {
  @TempDir Path dir;
  Path apiLog;
  Path kernel;
  Path init;
  Path image;

  @BeforeEach
  void setUp() throws IOException {
    Assumptions.assumeTrue(
        Users.isRoot(),
        "the jail is chowned to per-VM uids, which needs root; skipped as non-root");
    apiLog = dir.resolve("api.log");
    FakeBinaries.write(dir.resolve("bin"), "firecracker", FakeFirecracker.class, apiLog);
    FakeBinaries.write(dir.resolve("bin"), "jailer", FakeJailer.class, null);
    kernel = Files.writeString(dir.resolve("vmlinux"), "not really a kernel");
    Files.setPosixFilePermissions(kernel, PosixFilePermissions.fromString("rw-r--r--"));
    init = Files.writeString(dir.resolve("init"), "not really init");
    image = dir.resolve("image.ext4");
    WritableDisk.create(image, 8L << 20);
    Files.setPosixFilePermissions(image, PosixFilePermissions.fromString("rw-r--r--"));
  }

  private Firecracker driver(boolean jailed) {
    return new Firecracker(
        new Firecracker.Config(
            dir.resolve("bin/firecracker").toString(),
            jailed ? dir.resolve("bin/jailer").toString() : "no-such-jailer",
            40000,
            4,
            "inferno-test",
            64,
            dir.resolve("cgroup"),
            Duration.ofSeconds(20)),
        null);
  }

  private VmSpec spec(String id, String mode) {
    return new VmSpec(
        id,
        kernel,
        init,
        TestGuest.runConfig(id, mode, 7),
        image,
        16L << 20,
        2,
        256,
        Duration.ofSeconds(2),
        VmmKind.FIRECRACKER,
        dir.resolve("s").resolve(id),
        null);
  }

  private static int uid(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void jailedStartSendsTheExactApiSequenceAndStopUsesCtrlAltDel() throws Exception {
    Firecracker fc = driver(true);
    Supervisor sup = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), GuestSession.NO_CHANNELS);
    VmSpec spec = spec("fc-1", "cad");
    VmLayout layout = spec.layout();

    RunningVm vm = sup.start(spec);

    Path base = layout.jailBase();
    Path root = base.resolve("firecracker/fc-1/root");
    assertThat(Files.readAllLines(base.resolve("jailer.argv")))
        .containsExactly(
            "--id",
            "fc-1",
            "--exec-file",
            dir.resolve("bin/firecracker").toString(),
            "--uid",
            "40000",
            "--gid",
            "40000",
            "--cgroup-version",
            "2",
            "--cgroup",
            "cpu.max=200000 100000",
            "--cgroup",
            "memory.max=" + ((256L + 64) << 20),
            "--parent-cgroup",
            "inferno-test",
            "--chroot-base-dir",
            base.toString(),
            "--new-pid-ns",
            "--daemonize",
            "--",
            "--api-sock",
            "/run/firecracker.socket");
    assertThat(Files.readString(base.resolve("fake-cgroup/inferno-test/fc-1/memory.max")))
        .isEqualTo(Long.toString((256L + 64) << 20));
    assertThat(Files.readAllLines(apiLog))
        .containsExactly(
            "PUT /logger {\"log_path\":\"firecracker.log\",\"level\":\"Warning\",\"show_level\":true,\"show_log_origin\":false}",
            "PUT /metrics {\"metrics_path\":\"firecracker.metrics\"}",
            "PUT /boot-source {\"kernel_image_path\":\"vmlinux\",\"initrd_path\":\"initramfs.cpio\",\"boot_args\":\"console=ttyS0 reboot=k panic=1 pci=off rdinit=/inferno/init quiet\"}",
            "PUT /drives/image {\"drive_id\":\"image\",\"path_on_host\":\"image.ext4\",\"is_root_device\":false,\"is_read_only\":true}",
            "PUT /drives/scratch {\"drive_id\":\"scratch\",\"path_on_host\":\"scratch.ext4\",\"is_root_device\":false,\"is_read_only\":false}",
            "PUT /machine-config {\"vcpu_count\":2,\"mem_size_mib\":256}",
            "PUT /vsock {\"guest_cid\":3,\"uds_path\":\"./v.sock\"}",
            "PUT /serial {\"serial_out_path\":\"console.log\"}",
            "PUT /actions {\"action_type\":\"InstanceStart\"}");

    // jail layout, ownership and modes
    assertThat(uid(root)).isEqualTo(40000);
    assertThat(uid(root.resolve("run"))).isEqualTo(40000);
    assertThat(root.resolve("firecracker")).exists();
    assertThat(Files.isSameFile(root.resolve("vmlinux"), kernel)).isTrue();
    assertThat(Files.isSameFile(root.resolve("image.ext4"), image)).isTrue();
    assertThat(uid(image)).as("a shared image is not taken over by one VM").isEqualTo(0);
    assertThat(Files.isSameFile(root.resolve("initramfs.cpio"), layout.initramfs())).isTrue();
    assertThat(uid(root.resolve("initramfs.cpio"))).isEqualTo(40000);
    assertThat(mode(root.resolve("initramfs.cpio"))).isEqualTo("r--------");
    assertThat(uid(root.resolve("scratch.ext4"))).isEqualTo(40000);
    assertThat(mode(root.resolve("scratch.ext4"))).isEqualTo("rw-------");
    assertThat(Files.isSameFile(root.resolve("console.log"), layout.console())).isTrue();
    assertThat(uid(layout.console())).isEqualTo(40000);
    assertThat(root.resolve("v.sock")).exists();
    assertThat(Long.parseLong(Files.readString(root.resolve("firecracker.pid")).strip()))
        .isEqualTo(vm.process().pid());
    assertThat(VmmProcess.read(layout.pidFile())).isEqualTo(vm.process());
    assertThat(Files.readString(layout.console())).contains("fake-guest: drives [image, scratch]");

    ExitRecord exit = vm.stop();

    assertThat(vm.stopOutcome()).isEqualTo(StopEscalation.Outcome.VMM_SHUTDOWN);
    List<String> calls = Files.readAllLines(apiLog);
    assertThat(calls.getLast()).isEqualTo("PUT /actions {\"action_type\":\"SendCtrlAltDel\"}");
    assertThat(exit.code()).isEqualTo(143);
    assertThat(exit.source()).isEqualTo("console");
    assertThat(vm.process().isAlive()).isFalse();
    // the jail is gone; console, spec and exit record stay
    assertThat(base.resolve("firecracker/fc-1")).doesNotExist();
    assertThat(layout.console()).exists();
    assertThat(ExitRecord.read(layout.exitRecord())).isEqualTo(exit);
    assertThat(layout.dir().resolve("jail.json")).doesNotExist();
  }

  @Test
  void volumesArePutAfterTheDisksAndPauseIsPatchVm() throws Exception {
    Firecracker fc = driver(true);
    Supervisor sup = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), GuestSession.NO_CHANNELS);
    Path data = dir.resolve("volumes/data/volume.ext4");
    Path conf = dir.resolve("volumes/conf/volume.ext4");
    for (Path v : List.of(data, conf)) {
      Files.createDirectories(v.getParent());
      WritableDisk.create(v, 8L << 20);
    }
    VmSpec spec =
        spec("fc-vol", "cad")
            .withStorage(
                List.of(new Drive(data, "/data", false), new Drive(conf, "/etc/app", true)),
                List.of(new TmpfsMount("/cache", 1L << 20, null)),
                false);
    RunningVm vm = sup.start(spec);
    Path root = spec.layout().jailBase().resolve("firecracker/fc-vol/root");
    assertThat(Files.readAllLines(apiLog))
        .containsSequence(
            "PUT /drives/scratch {\"drive_id\":\"scratch\",\"path_on_host\":\"scratch.ext4\",\"is_root_device\":false,\"is_read_only\":false}",
            "PUT /drives/vol0 {\"drive_id\":\"vol0\",\"path_on_host\":\"vol0.ext4\",\"is_root_device\":false,\"is_read_only\":false}",
            "PUT /drives/vol1 {\"drive_id\":\"vol1\",\"path_on_host\":\"vol1.ext4\",\"is_root_device\":false,\"is_read_only\":true}",
            "PUT /machine-config {\"vcpu_count\":2,\"mem_size_mib\":256}");
    // hard links (the guest writes into the volume itself), owned by the VM's uid
    assertThat(Files.isSameFile(root.resolve("vol0.ext4"), data)).isTrue();
    assertThat(Files.isSameFile(root.resolve("vol1.ext4"), conf)).isTrue();
    assertThat(uid(root.resolve("vol0.ext4"))).isEqualTo(40000);
    assertThat(mode(root.resolve("vol0.ext4"))).isEqualTo("rw-------");
    assertThat(mode(root.resolve("vol1.ext4"))).isEqualTo("r--------");
    assertThat(Files.readString(spec.layout().console()))
        .contains("fake-guest: drives [image, scratch, vol0, vol1]");
    // run.json names the devices in the order they were put
    String runJson = initramfsRunJson(root.resolve("initramfs.cpio"));
    assertThat(runJson)
        .contains(
            "\"mounts\":[{\"type\":\"volume\",\"device\":\"/dev/vdc\",\"target\":\"/data\",\"readonly\":false},"
                + "{\"type\":\"volume\",\"device\":\"/dev/vdd\",\"target\":\"/etc/app\",\"readonly\":true},"
                + "{\"type\":\"tmpfs\",\"target\":\"/cache\",\"size_bytes\":1048576,\"mode\":null}]");

    assertThat(vm.paused()).isFalse();
    vm.pause();
    assertThat(vm.paused()).isTrue();
    assertThat(Files.readAllLines(apiLog).getLast()).isEqualTo("PATCH /vm {\"state\":\"Paused\"}");
    assertThat(fc.paused(spec, spec.layout(), vm.process())).as("GET / says Paused").isTrue();
    // a supervisor that comes back finds the VM paused
    Supervisor again = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), GuestSession.NO_CHANNELS);
    assertThat(again.adopt(spec.layout().dir()).orElseThrow().paused()).isTrue();

    ExitRecord exit = vm.stop();
    // resumed first, so the guest hears the Ctrl-Alt-Del and stops by itself
    assertThat(Files.readAllLines(apiLog))
        .containsSequence(
            "PATCH /vm {\"state\":\"Resumed\"}",
            "PUT /actions {\"action_type\":\"SendCtrlAltDel\"}");
    assertThat(vm.stopOutcome()).isEqualTo(StopEscalation.Outcome.VMM_SHUTDOWN);
    assertThat(exit.code()).isEqualTo(143);
    assertThat(vm.paused()).isFalse();
    assertThatThrownBy(vm::pause)
        .isInstanceOf(VmmException.class)
        .hasMessageContaining("not running");
    assertThat(data).exists();
  }

  @Test
  void startAgainBootsOnTheSameStateDirAndKeepsTheWritableDisk() throws Exception {
    Firecracker fc = driver(true);
    Supervisor sup = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), GuestSession.NO_CHANNELS);
    VmSpec spec = spec("fc-again", "exit");
    assertThatThrownBy(() -> sup.startAgain(spec))
        .isInstanceOf(VmmException.class)
        .hasMessageContaining("is not the state dir of a VM kiln ran (it has no spec.json)");
    ExitRecord first = sup.start(spec).exit().get(30, TimeUnit.SECONDS);
    assertThat(first.code()).isEqualTo(7);
    assertThatThrownBy(() -> sup.start(spec))
        .hasMessageContaining("belongs to an earlier run: boot it again (startAgain)");
    VmLayout layout = spec.layout();
    // what boot 1 wrote on its disk (here: bytes past the file system's end)
    long size = Files.size(layout.writableDisk());
    try (var raf = new java.io.RandomAccessFile(layout.writableDisk().toFile(), "rw")) {
      raf.seek(size - 8);
      raf.write("boot-one".getBytes(StandardCharsets.US_ASCII));
    }

    RunningVm second = sup.startAgain(spec);
    ExitRecord again = second.exit().get(30, TimeUnit.SECONDS);
    assertThat(again.code()).isEqualTo(7);
    try (var raf = new java.io.RandomAccessFile(layout.writableDisk().toFile(), "r")) {
      byte[] b = new byte[8];
      raf.seek(size - 8);
      raf.readFully(b);
      assertThat(new String(b, StandardCharsets.US_ASCII))
          .as("not reformatted")
          .isEqualTo("boot-one");
    }
    assertThat(Files.size(layout.writableDisk())).isEqualTo(size);
    // the last boot's records moved aside; the console holds this boot only
    assertThat(ExitRecord.read(layout.dir().resolve("previous-boot/exit.json"))).isEqualTo(first);
    assertThat(Files.readString(layout.dir().resolve("previous-boot/console.log")))
        .contains("fake-guest: booted");
    assertThat(Files.readString(layout.console()).split("fake-guest: booted", -1)).hasSize(2);
    assertThat(ExitRecord.read(layout.exitRecord())).isEqualTo(again);
    assertThat(Files.readAllLines(apiLog).stream().filter(l -> l.contains("InstanceStart")).count())
        .isEqualTo(2);
    assertThat(layout.jailBase().resolve("firecracker/fc-again")).doesNotExist();
  }

  private static String initramfsRunJson(Path cpio) throws IOException {
    try (var in =
        new org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream(
            Files.newInputStream(cpio))) {
      for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        if (e.getName().equals("inferno/run.json")) {
          return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
    }
    throw new AssertionError("no run.json in " + cpio);
  }

  /** A TAP (random name) owned as given, or by nobody in particular when owner is null. */
  private static String tap(TapOwner owner) throws Exception {
    String name = "ktap" + java.util.HexFormat.of().toHexDigits(new java.util.Random().nextInt());
    List<String> cmd = new ArrayList<>(List.of("ip", "tuntap", "add", "name", name, "mode", "tap"));
    if (owner != null) {
      cmd.addAll(List.of("user", Integer.toString(owner.uid()), "group", "" + owner.gid()));
    }
    TestGuest.run(Path.of("/"), cmd.toArray(String[]::new));
    return name;
  }

  private static void deleteTap(String name) throws Exception {
    new ProcessBuilder("ip", "link", "del", name).inheritIO().start().waitFor();
  }

  @Test
  void aNicIsPutBeforeBootOnATapTheJailedUidOwns() throws Exception {
    Firecracker fc = driver(true);
    Supervisor sup = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), GuestSession.NO_CHANNELS);
    VmSpec bare = spec("fc-net", "cad");
    TapOwner owner = sup.tapOwner(bare).orElseThrow();
    assertThat(owner)
        .as("the uid prepare will jail the VM as")
        .isEqualTo(new TapOwner(40000, 40000));
    assertThat(sup.tapOwner(bare)).as("asking again reserves nothing new").contains(owner);
    String tap = tap(owner);
    try {
      RunningVm vm = sup.start(bare.withNic(new Nic(tap, "02:42:ac:1e:00:02")));
      String nicCall =
          "PUT /network-interfaces/eth0 {\"iface_id\":\"eth0\",\"host_dev_name\":\""
              + tap
              + "\",\"guest_mac\":\"02:42:ac:1e:00:02\"}";
      // after the machine config, before InstanceStart (interfaces only before boot)
      assertThat(Files.readAllLines(apiLog))
          .containsSequence(
              "PUT /machine-config {\"vcpu_count\":2,\"mem_size_mib\":256}",
              nicCall,
              "PUT /vsock {\"guest_cid\":3,\"uds_path\":\"./v.sock\"}",
              "PUT /serial {\"serial_out_path\":\"console.log\"}",
              "PUT /actions {\"action_type\":\"InstanceStart\"}");
      assertThat(Files.readAllLines(vm.spec().layout().jailBase().resolve("jailer.argv")))
          .containsSequence("--uid", "40000", "--gid", "40000");
      vm.stop();
      // cleanup freed the uid: the next VM gets the same one
      assertThat(sup.tapOwner(spec("fc-next", "cad"))).contains(owner);
      sup.releaseTapOwner(spec("fc-next", "cad"));
    } finally {
      deleteTap(tap);
    }
  }

  @Test
  void aTapTheJailedUidCannotOpenFailsTheStartWithFirecrackersError() throws Exception {
    Firecracker fc = driver(true);
    Supervisor sup = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), GuestSession.NO_CHANNELS);
    String tap = tap(null); // made without `user UID`: only CAP_NET_ADMIN may attach
    try {
      VmSpec spec = spec("fc-noperm", "cad").withNic(new Nic(tap, "02:42:ac:1e:00:03"));
      assertThatThrownBy(() -> sup.start(spec))
          .isInstanceOf(VmmException.class)
          .hasMessageContaining("Firecracker rejected PUT /network-interfaces/eth0 (HTTP 400)")
          .hasMessageContaining("Operation not permitted")
          .hasMessageContaining("Invalid TUN/TAP Backend provided by " + tap)
          .hasMessageContaining("mode tap user 40000 group 40000");
      assertThat(Files.readAllLines(apiLog)).noneMatch(c -> c.contains("InstanceStart"));
      // the failed start freed its uid
      assertThat(sup.tapOwner(spec)).contains(new TapOwner(40000, 40000));
      sup.releaseTapOwner(spec);
      // unjailed, Firecracker runs as kiln's user: no owner needed
      assertThat(driver(false).tapOwner(spec)).isEmpty();
    } finally {
      deleteTap(tap);
    }
  }

  @Test
  void aGuestIgnoringEverythingIsKilledAndItsUidIsReused() throws Exception {
    Firecracker fc = driver(true);
    Supervisor sup = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), GuestSession.NO_CHANNELS);
    RunningVm first = sup.start(spec("fc-a", "hang"));
    RunningVm second = sup.start(spec("fc-b", "hang"));
    Path rootA = first.spec().layout().jailBase().resolve("firecracker/fc-a/root");
    Path rootB = second.spec().layout().jailBase().resolve("firecracker/fc-b/root");
    assertThat(uid(rootA)).isEqualTo(40000);
    assertThat(uid(rootB)).as("a distinct uid per VM").isEqualTo(40001);

    long t0 = System.nanoTime();
    ExitRecord exit = first.stop();
    assertThat(first.stopOutcome()).isEqualTo(StopEscalation.Outcome.KILLED);
    // grace (2 s) for SendCtrlAltDel, then SIGKILL
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(2));
    assertThat(exit.code()).isEqualTo(137);
    assertThat(exit.reason()).contains("killed");
    assertThat(Files.readString(first.spec().layout().console()))
        .contains("fake-guest: SendCtrlAltDel received");

    RunningVm third = sup.start(spec("fc-c", "hang"));
    assertThat(uid(third.spec().layout().jailBase().resolve("firecracker/fc-c/root")))
        .as("fc-a's uid is free again")
        .isEqualTo(40000);
    second.stop();
    third.stop();
  }

  @Test
  void firecrackersOwnMetricsComeFromItsMetricsFile() throws Exception {
    // Firecracker flushes every 60 s; the fake is told to do it every 300 ms
    FakeBinaries.write(
        dir.resolve("bin"),
        "firecracker",
        FakeFirecracker.class,
        apiLog,
        Map.of("FAKE_FC_METRICS_PERIOD_MS", "300"));
    Supervisor sup =
        new Supervisor(Map.of(VmmKind.FIRECRACKER, driver(true)), GuestSession.NO_CHANNELS);
    RunningVm vm = sup.start(spec("fc-m", "hang"));
    assertThat(vm.guestMetrics()).isEmpty(); // no guest channels here
    long before = System.currentTimeMillis();
    VmmMetrics flushed = vm.vmmMetrics(true).orElseThrow();
    assertThat(Files.readString(apiLog))
        .contains("PUT /actions {\"action_type\":\"FlushMetrics\"}");
    assertThat(flushed.utcTimestampMs()).isGreaterThanOrEqualTo(before);
    // counted as it arrived: the FlushMetrics itself is in the line it made
    assertThat(flushed.values().at("/put_api_requests/actions_count").asLong()).isPositive();
    // without asking, a newer line comes within the period; its counters are deltas: no requests
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    VmmMetrics periodic = flushed;
    while (periodic.utcTimestampMs() <= flushed.utcTimestampMs() && System.nanoTime() < deadline) {
      Thread.sleep(50);
      periodic = vm.vmmMetrics(false).orElseThrow();
    }
    assertThat(periodic.utcTimestampMs()).isGreaterThan(flushed.utcTimestampMs());
    assertThat(periodic.values().at("/put_api_requests/actions_count").asLong()).isZero();
    // the file is kept in the state dir, one JSON object per line
    assertThat(Files.readAllLines(vm.spec().layout().dir().resolve("firecracker.metrics")))
        .hasSizeGreaterThanOrEqualTo(2)
        .allSatisfy(l -> assertThat(l).startsWith("{\"utc_timestamp_ms\":"));
    vm.stop();
  }

  @Test
  void unjailedWithHybridVsockChannels() throws Exception {
    Firecracker fc = driver(false);
    Map<String, String> hellos = new ConcurrentHashMap<>();
    List<ServerSocketChannel> listeners = new ArrayList<>();
    GuestSession.Factory bindListeners =
        (spec, layout, transport) -> {
          GuestTransport.HybridVsock v = (GuestTransport.HybridVsock) transport;
          assertThat(v.owner()).isEqualTo(new SocketOwner(40000, 40000));
          for (Channel ch : Channel.values()) {
            if (ch.hostInitiated()) {
              continue;
            }
            String name = ch.name().toLowerCase(java.util.Locale.ROOT);
            ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            s.bind(UnixDomainSocketAddress.of(Path.of(v.udsPath() + "_" + v.ports().of(ch))));
            listeners.add(s);
            Thread.ofVirtual()
                .start(() -> {
                  try (SocketChannel c = s.accept()) {
                    byte[] h = Channels.newInputStream(c).readNBytes(16 + 9);
                    hellos.put(name, String.format("%02x/%d", h[3], h[16]));
                  } catch (IOException ignored) {
                    // test ends
                  }
                });
          }
          return GuestSession.NONE;
        };
    Supervisor sup = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), bindListeners);
    VmSpec spec = spec("fc-v", "cad");
    RunningVm vm = sup.start(spec);
    assertThat(Files.readString(spec.layout().vmmLog())).contains("WITHOUT the jailer");

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (hellos.size() < 3 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    // HELLO (type 01) with the channel id: logs 1, exit 2, metrics 4
    assertThat(hellos)
        .containsEntry("logs", "01/1")
        .containsEntry("exit", "01/2")
        .containsEntry("metrics", "01/4");

    Path uds = fc.jailRoot(spec).resolve("v.sock");
    // a port nobody listens on in the guest: Firecracker closes the connection
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(uds))) {
      c.write(ByteBuffer.wrap("CONNECT 9999\n".getBytes(StandardCharsets.US_ASCII)));
      assertThat(Channels.newInputStream(c).readAllBytes()).isEmpty();
    }
    // the control port: OK, the guest's HELLO, then a CONTROL stop is answered and obeyed
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(uds))) {
      c.write(ByteBuffer.wrap("CONNECT 10003\n".getBytes(StandardCharsets.US_ASCII)));
      InputStream in = Channels.newInputStream(c);
      StringBuilder ok = new StringBuilder();
      int ch;
      while ((ch = in.read()) != '\n') {
        ok.append((char) ch);
      }
      assertThat(ok.toString()).startsWith("OK ");
      byte[] hello = in.readNBytes(16);
      assertThat(hello[3]).isEqualTo((byte) 0x01);
      byte[] payload = in.readNBytes(ByteBuffer.wrap(hello, 4, 4).getInt());
      assertThat(payload[0]).as("HELLO on the control channel").isEqualTo((byte) 3);
      FakeFirecracker.writeFully(
          c, FakeFirecracker.frame(0x06, "{\"op\":\"stop\"}".getBytes(StandardCharsets.UTF_8)));
      byte[] reply = in.readNBytes(16 + 11);
      assertThat(reply[3]).isEqualTo((byte) 0x07);
      assertThat(new String(reply, 16, 11, StandardCharsets.UTF_8)).isEqualTo("{\"ok\":true}");
    }
    ExitRecord exit = vm.exit().get(10, TimeUnit.SECONDS);
    assertThat(exit.code()).isEqualTo(143);
    for (ServerSocketChannel s : listeners) {
      s.close();
    }
  }

  @Test
  void protocolOverHybridVsockStopsTheGuestThroughTheControlChannel() throws Exception {
    Firecracker fc = driver(true);
    Supervisor sup = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), LinkedGuest.factory());
    VmSpec spec = spec("fc-p", "cad");
    RunningVm vm = sup.start(spec);
    Path root = spec.layout().jailBase().resolve("firecracker/fc-p/root");
    for (int port : new int[] {10000, 10001, 10002}) {
      Path listener = root.resolve("v.sock_" + port);
      assertThat(listener).exists();
      assertThat(uid(listener)).as("connectable by the VM's uid").isEqualTo(40000);
    }
    // the guest's exit connection must be up before the stop, as with init
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (((LinkedGuest) vm.guest()).link().stats().connections() < 3
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    ExitRecord exit = vm.stop();
    assertThat(vm.stopOutcome()).isEqualTo(StopEscalation.Outcome.GUEST_STOPPED);
    assertThat(exit.code()).isEqualTo(143);
    assertThat(exit.signal()).isEqualTo(15);
    assertThat(exit.source()).isEqualTo("guest");
    assertThat(Files.readString(spec.layout().console()))
        .contains("fake-guest: CONTROL stop received")
        .contains("fake-guest: exit acked=true");
    assertThat(Files.readAllLines(apiLog))
        .doesNotContain("PUT /actions {\"action_type\":\"SendCtrlAltDel\"}");
    assertThat(root.getParent()).doesNotExist();
  }

  @Test
  void execOverHybridVsockDialsTheSessionPort() throws Exception {
    Firecracker fc = driver(true);
    Supervisor sup = new Supervisor(Map.of(VmmKind.FIRECRACKER, fc), LinkedGuest.factory());
    VmSpec spec = spec("fc-e", "cad");
    RunningVm vm = sup.start(spec);
    Path root = spec.layout().jailBase().resolve("firecracker/fc-e/root");
    assertThat(root.resolve("v.sock_10004")).as("host-initiated: kiln dials it").doesNotExist();
    GuestExec exec = vm.exec().orElseThrow();
    ExecProcess p =
        exec.open(
            new ExecRequest.Command(
                List.of("echo", "hi", "there"), List.of(), null, null, false, false, null));
    assertThat(p.pid()).isEqualTo(101);
    ExecProcess.Output o = p.read();
    assertThat(o.stream()).isEqualTo(1);
    assertThat(new String(o.bytes(), StandardCharsets.UTF_8)).isEqualTo("hi there\n");
    assertThat(p.read()).isNull();
    assertThat(p.exit().get(10, TimeUnit.SECONDS).code()).isZero();
    assertThatThrownBy(() ->
            exec.open(
                new ExecRequest.Command(
                    List.of("nosuch"), List.of(), null, null, false, false, null)))
        .isInstanceOf(ExecStartException.class)
        .hasMessage("exec: \"nosuch\": executable file not found in $PATH");
    ExitRecord exit = vm.stop();
    assertThat(exit.code()).isEqualTo(143);
    assertThatThrownBy(() ->
            exec.open(
                new ExecRequest.Command(
                    List.of("echo"), List.of(), null, null, false, false, null)))
        .isInstanceOf(IOException.class)
        .hasMessage("the VM stopped");
  }

  @Test
  void aRestartedSupervisorAdoptsTheVmAndKeepsItsUid() throws Exception {
    Supervisor first =
        new Supervisor(Map.of(VmmKind.FIRECRACKER, driver(true)), GuestSession.NO_CHANNELS);
    RunningVm vm = first.start(spec("fc-r", "cad"));
    VmmProcess process = vm.process();

    // a new supervisor and driver, as after a restart of the hosting process
    Firecracker fresh = driver(true);
    Supervisor second =
        new Supervisor(Map.of(VmmKind.FIRECRACKER, fresh), GuestSession.NO_CHANNELS);
    RunningVm adopted = second.adopt(vm.spec().stateDir()).orElseThrow();
    assertThat(adopted.process()).isEqualTo(process);
    RunningVm other = second.start(spec("fc-s", "hang"));
    assertThat(uid(other.spec().layout().jailBase().resolve("firecracker/fc-s/root")))
        .as("the adopted VM's uid 40000 is not handed out again")
        .isEqualTo(40001);

    ExitRecord exit = adopted.stop();
    assertThat(adopted.stopOutcome()).isEqualTo(StopEscalation.Outcome.VMM_SHUTDOWN);
    assertThat(exit.code()).isEqualTo(143);
    other.stop();
  }

  @Test
  void autoFallsBackToQemuWithoutFirecracker() throws Exception {
    Firecracker missing =
        new Firecracker(
            new Firecracker.Config(
                "/nonexistent/firecracker",
                "jailer",
                40000,
                4,
                "x",
                64,
                dir,
                Duration.ofSeconds(1)),
            null);
    assertThat(missing.unavailableReason())
        .hasValueSatisfying(r -> assertThat(r).contains("--vmm qemu"));
    var qemu = new dev.inferno.kiln.qemu.Qemu(dev.inferno.kiln.qemu.Qemu.Config.defaults());
    Supervisor sup =
        new Supervisor(
            Map.of(VmmKind.FIRECRACKER, missing, VmmKind.QEMU, qemu), GuestSession.NO_CHANNELS);
    assertThat(sup.resolve(VmmKind.AUTO)).isSameAs(qemu);
    assertThat(sup.resolve(VmmKind.AUTO).kind()).isEqualTo(VmmKind.QEMU);
    Firecracker present = driver(true);
    Supervisor sup2 =
        new Supervisor(
            Map.of(VmmKind.FIRECRACKER, present, VmmKind.QEMU, qemu), GuestSession.NO_CHANNELS);
    assertThat(sup2.resolve(VmmKind.AUTO)).isSameAs(present);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sup.resolve(VmmKind.FIRECRACKER))
        .hasMessageContaining("firecracker cannot run here");
  }
}
