package dev.inferno.kiln.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.inferno.kiln.guest.GuestTransport;
import dev.inferno.kiln.guest.SocketOwner;
import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.vm.AtomicFiles;
import dev.inferno.kiln.vm.DetachedLauncher;
import dev.inferno.kiln.vm.Drive;
import dev.inferno.kiln.vm.Executables;
import dev.inferno.kiln.vm.TapOwner;
import dev.inferno.kiln.vm.VmLayout;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.Vmm;
import dev.inferno.kiln.vm.VmmException;
import dev.inferno.kiln.vm.VmmKind;
import dev.inferno.kiln.vm.VmmProcess;
import dev.inferno.sys.FileTrees;
import dev.inferno.sys.Kvm;
import dev.inferno.sys.Ownership;
import dev.inferno.sys.Processes;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The Firecracker driver (production): launch under the official jailer with a uid of its own,
 * configure over the API socket, start. Paths given to Firecracker are relative to the jail root,
 * which is its working directory both under the jailer (chroot) and without it.
 */
public final class Firecracker implements Vmm {
  private static final Logger LOG = System.getLogger(Firecracker.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  public static final String BOOT_ARGS =
      "console=ttyS0 reboot=k panic=1 pci=off rdinit=/inferno/init quiet";

  /** The API socket as Firecracker sees it (inside the jail). */
  public static final String API_SOCK = "/run/firecracker.socket";

  public static final String VSOCK_UDS = "./v.sock";
  public static final int GUEST_CID = 3;

  /** Firecracker's name for the VM's one network interface (the guest's name is the kernel's). */
  public static final String IFACE_ID = "eth0";

  /**
   * @param firecracker the firecracker binary (name on PATH or path)
   * @param jailer the jailer binary; null or missing runs Firecracker unjailed with a warning
   * @param uidFirst first uid (= gid) of the per-VM range
   * @param uidCount how many uids the range holds
   * @param parentCgroup cgroup v2 parent for the per-VM cgroups (jailer --parent-cgroup)
   * @param memoryHeadroomMib memory.max is guest memory plus this, for the VMM itself
   * @param cgroupRoot the cgroup v2 mount, where per-VM cgroups are removed on cleanup
   * @param apiTimeout how long to wait for the API socket to appear
   */
  public record Config(
      String firecracker,
      String jailer,
      int uidFirst,
      int uidCount,
      String parentCgroup,
      int memoryHeadroomMib,
      Path cgroupRoot,
      Duration apiTimeout) {
    public static Config defaults() {
      return new Config(
          "firecracker",
          "jailer",
          40000,
          10000,
          "inferno",
          64,
          Path.of("/sys/fs/cgroup"),
          Duration.ofSeconds(5));
    }
  }

  private final Config config;
  private final UidRange uids;
  private final Path kvmDevice;

  public Firecracker(Config config) {
    this(config, Path.of("/dev/kvm"));
  }

  /** kvmDevice: tests point it elsewhere; production uses /dev/kvm. */
  public Firecracker(Config config, Path kvmDevice) {
    this.config = config;
    this.uids = new UidRange(config.uidFirst(), config.uidCount());
    this.kvmDevice = kvmDevice;
  }

  @Override
  public VmmKind kind() {
    return VmmKind.FIRECRACKER;
  }

  @Override
  public Optional<String> unavailableReason() {
    if (Executables.find(config.firecracker()).isEmpty()) {
      return Optional.of(
          config.firecracker()
              + " not found: install Firecracker (>= 1.14) and its jailer, or use --vmm qemu");
    }
    if (kvmDevice != null) {
      Kvm.Probe probe = Kvm.probe(kvmDevice);
      if (!probe.usable()) {
        return Optional.of("KVM is not usable: " + probe.reason());
      }
    }
    return Optional.empty();
  }

  /** The jailer binary, when configured and installed. */
  Optional<Path> jailer() {
    if (config.jailer() == null || config.jailer().isBlank()) {
      return Optional.empty();
    }
    return Executables.find(config.jailer()).map(Path::toAbsolutePath);
  }

  private Path firecrackerBinary() throws VmmException {
    return Executables.find(config.firecracker())
        .map(Path::toAbsolutePath)
        .orElseThrow(() -> new VmmException(unavailableReason().orElse("firecracker not found")));
  }

  private String execName() {
    return Path.of(config.firecracker()).getFileName().toString();
  }

  /** The jail root: the chroot under the jailer, the working directory without it. */
  public Path jailRoot(VmSpec spec) {
    return spec.layout().jailRoot(execName(), spec.id());
  }

  private Path jailInfo(VmLayout layout) {
    return layout.dir().resolve("jail.json");
  }

  @Override
  public void prepare(VmSpec spec, VmLayout layout) throws IOException {
    if (!execName().contains("firecracker")) {
      throw new VmmException(
          "the Firecracker binary's name must contain 'firecracker' (the jailer insists): "
              + config.firecracker());
    }
    int uid = uids.allocate(spec.id());
    Path instance = jailRoot(spec).getParent();
    FileTrees.delete(instance);
    Path root = Files.createDirectories(jailRoot(spec));
    Files.createDirectories(root.resolve("run"));
    linkShared(spec.kernel(), root.resolve("vmlinux"), uid);
    linkOwned(layout.initramfs(), root.resolve("initramfs.cpio"), uid, "r--------");
    if (spec.imageDisk() != null) {
      linkShared(spec.imageDisk(), root.resolve("image.ext4"), uid);
    }
    if (spec.hasWritableDisk()) {
      linkOwned(layout.writableDisk(), root.resolve("scratch.ext4"), uid, "rw-------");
    }
    for (int i = 0; i < spec.drives().size(); i++) {
      Drive d = spec.drives().get(i);
      linkDrive(d, root.resolve(driveFile(i)), uid);
    }
    // Firecracker writes these; hard links keep them in the state dir after the jail is gone.
    for (String f : List.of("console.log", "firecracker.log", "firecracker.metrics")) {
      Path kept = layout.dir().resolve(f);
      if (!Files.exists(kept)) {
        Files.createFile(kept);
      }
      linkOwned(kept, root.resolve(f), uid, "rw-r-----");
    }
    ObjectNode info = JSON.createObjectNode().put("uid", uid).put("gid", uid);
    info.put("jailer", jailer().isPresent());
    AtomicFiles.write(jailInfo(layout), JSON.writeValueAsBytes(info));
  }

  private static String driveId(int i) {
    return "vol" + i;
  }

  private static String driveFile(int i) {
    return driveId(i) + ".ext4";
  }

  /**
   * A volume goes into the jail as a hard link, never a copy (the guest's writes must land in the
   * volume), owned by the VM's uid. Firecracker opens it at {@code PUT /drives}; an open file stays
   * usable when the next VM takes a read-only volume over, so one owner at a time is enough.
   */
  private static void linkDrive(Drive d, Path target, int uid) throws IOException {
    try {
      Files.createLink(target, d.file());
    } catch (FileSystemException e) {
      throw new VmmException(
          "cannot hard-link the volume "
              + d.file()
              + " into the VM's jail ("
              + e.getMessage()
              + "): keep volumes on the same filesystem as the VM state dir",
          e);
    }
    Ownership.lchown(target, uid, uid);
    Files.setPosixFilePermissions(
        target, PosixFilePermissions.fromString(d.readOnly() ? "r--------" : "rw-------"));
  }

  /** Shared read-only inputs: hard-linked as they are when any uid may read them, else copied. */
  private static void linkShared(Path source, Path target, int uid) throws IOException {
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(source);
    if (perms.contains(PosixFilePermission.OTHERS_READ)) {
      link(source, target);
    } else {
      // chown on a hard link would take the file away from every other VM sharing it
      Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
      Ownership.lchown(target, uid, uid);
      Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r--------"));
    }
  }

  /** Per-VM files: hard link (copy across filesystems) owned by the VM's uid. */
  private static void linkOwned(Path source, Path target, int uid, String mode) throws IOException {
    link(source, target);
    Ownership.lchown(target, uid, uid);
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(mode));
  }

  private static void link(Path source, Path target) throws IOException {
    try {
      Files.createLink(target, source);
    } catch (FileSystemException e) {
      Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private int recordedUid(VmLayout layout, String vmId) throws IOException {
    JsonNode info = JSON.readTree(jailInfo(layout).toFile());
    int uid = info.path("uid").asInt();
    uids.claim(uid, vmId);
    return uid;
  }

  /**
   * Under the jailer the VM's own uid (= gid), reserved here for {@code spec.id()} as {@link
   * #prepare} would: the jailed Firecracker can attach only to a TAP that uid owns. Without the
   * jailer Firecracker runs as kiln's user: empty.
   */
  @Override
  public Optional<TapOwner> tapOwner(VmSpec spec) throws VmmException {
    if (jailer().isEmpty()) {
      return Optional.empty();
    }
    int uid = uids.allocate(spec.id());
    return Optional.of(new TapOwner(uid, uid));
  }

  @Override
  public void releaseTapOwner(VmSpec spec) {
    uids.release(spec.id());
  }

  @Override
  public GuestTransport transport(VmSpec spec, VmLayout layout) {
    try {
      int uid = recordedUid(layout, spec.id());
      GuestTransport.HybridVsock t =
          new GuestTransport.HybridVsock(
              jailRoot(spec).resolve("v.sock"),
              spec.runConfig().ports(),
              new SocketOwner(uid, uid));
      for (Channel c : Channel.values()) {
        if (!c.hostInitiated()) {
          VmLayout.checkSocketPath(t.listenPath(c));
        }
      }
      return t;
    } catch (IOException e) {
      throw new IllegalStateException(
          "VM " + spec.id() + " has no prepared jail: " + e.getMessage(), e);
    }
  }

  /** The jailer's argv for a VM. */
  public List<String> jailerArgv(Path jailer, Path firecracker, VmSpec spec, int uid) {
    long memoryMax = ((long) spec.memoryMib() + config.memoryHeadroomMib()) << 20;
    List<String> a = new ArrayList<>();
    a.add(jailer.toString());
    a.addAll(List.of("--id", spec.id()));
    a.addAll(List.of("--exec-file", firecracker.toString()));
    a.addAll(List.of("--uid", Integer.toString(uid), "--gid", Integer.toString(uid)));
    a.addAll(List.of("--cgroup-version", "2"));
    a.addAll(List.of("--cgroup", "cpu.max=" + (spec.vcpus() * 100_000L) + " 100000"));
    a.addAll(List.of("--cgroup", "memory.max=" + memoryMax));
    a.addAll(List.of("--parent-cgroup", config.parentCgroup()));
    a.addAll(List.of("--chroot-base-dir", spec.layout().jailBase().toString()));
    a.addAll(List.of("--new-pid-ns", "--daemonize"));
    a.addAll(List.of("--", "--api-sock", API_SOCK));
    return a;
  }

  @Override
  public VmmProcess start(VmSpec spec, VmLayout layout) throws IOException {
    Path root = jailRoot(spec);
    int uid = recordedUid(layout, spec.id());
    Path fc = firecrackerBinary();
    Files.deleteIfExists(root.resolve("v.sock"));
    Files.deleteIfExists(root.resolve(execName() + ".pid"));
    Optional<Path> jailer = jailer();
    long pid;
    if (jailer.isPresent()) {
      pid = launchJailed(jailer.get(), fc, spec, layout, uid, root);
    } else {
      String warning =
          "WARNING: no jailer ("
              + config.jailer()
              + ") found: running Firecracker WITHOUT the jailer, as this user, with no chroot,"
              + " cgroup or pid namespace. Fine for development, never for production.";
      LOG.log(Level.WARNING, warning);
      System.err.println("kiln: " + warning);
      Files.writeString(
          layout.vmmLog(),
          warning + "\n",
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      pid =
          DetachedLauncher.launch(
              List.of(
                  fc.toString(),
                  "--api-sock",
                  root.resolve("run/firecracker.socket").toString(),
                  "--id",
                  spec.id()),
              layout.vmmLog(),
              root);
    }
    VmmProcess process;
    try {
      process = VmmProcess.of(VmmKind.FIRECRACKER, pid);
    } catch (IOException e) {
      throw new VmmException(
          "Firecracker exited at once: " + DetachedLauncher.tail(layout.vmmLog(), 10), e);
    }
    try {
      configure(spec, root, process);
    } catch (IOException | RuntimeException e) {
      process.signal(Processes.SIGKILL);
      throw e;
    }
    return process;
  }

  private long launchJailed(Path jailer, Path fc, VmSpec spec, VmLayout layout, int uid, Path root)
      throws IOException {
    List<String> argv = jailerArgv(jailer, fc, spec, uid);
    Process p =
        new ProcessBuilder(argv)
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(layout.vmmLog().toFile()))
            .redirectErrorStream(true)
            .start();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new VmmException("the jailer did not finish in 10 s: see " + layout.vmmLog());
      }
      if (p.exitValue() != 0) {
        throw new VmmException(
            "the jailer failed (exit "
                + p.exitValue()
                + "): "
                + DetachedLauncher.tail(layout.vmmLog(), 10));
      }
      // --daemonize: the jailer exits before its daemon child writes <exec_file_name>.pid
      Path pidFile = root.resolve(execName() + ".pid");
      long deadline = System.nanoTime() + config.apiTimeout().toNanos();
      while (true) {
        if (Files.exists(pidFile)) {
          String s = Files.readString(pidFile, StandardCharsets.US_ASCII).strip();
          if (!s.isEmpty()) {
            return Long.parseLong(s);
          }
        }
        if (System.nanoTime() > deadline) {
          throw new VmmException(
              "the jailer never wrote "
                  + pidFile
                  + ": "
                  + DetachedLauncher.tail(layout.vmmLog(), 10));
        }
        Thread.sleep(5);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VmmException("interrupted while starting the jailer", e);
    }
  }

  private void configure(VmSpec spec, Path root, VmmProcess process) throws IOException {
    Path socket = root.resolve("run/firecracker.socket");
    long deadline = System.nanoTime() + config.apiTimeout().toNanos();
    // the socket file appears at bind(), connections succeed only after listen(): try to connect
    while (!accepts(socket)) {
      if (!process.isAlive()) {
        throw new VmmException(
            "Firecracker exited before opening its API socket: "
                + DetachedLauncher.tail(spec.layout().vmmLog(), 10)
                + " "
                + DetachedLauncher.tail(spec.layout().dir().resolve("firecracker.log"), 5));
      }
      if (System.nanoTime() > deadline) {
        throw new VmmException(
            "Firecracker's API socket " + socket + " did not appear in " + config.apiTimeout());
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new VmmException("interrupted while waiting for Firecracker", e);
      }
    }
    FirecrackerApi api = new FirecrackerApi(socket);
    api.logger("firecracker.log", "Warning");
    api.metrics("firecracker.metrics");
    api.bootSource("vmlinux", "initramfs.cpio", BOOT_ARGS);
    if (spec.imageDisk() != null) {
      api.drive("image", "image.ext4", true);
    }
    if (spec.hasWritableDisk()) {
      api.drive("scratch", "scratch.ext4", false);
    }
    // attached in this order, so the guest names them as GuestDevices says
    for (int i = 0; i < spec.drives().size(); i++) {
      api.drive(driveId(i), driveFile(i), spec.drives().get(i).readOnly());
    }
    api.machineConfig(spec.vcpus(), spec.memoryMib());
    if (spec.nic() != null) {
      networkInterface(api, spec);
    }
    api.vsock(GUEST_CID, VSOCK_UDS);
    api.serial("console.log");
    api.action("InstanceStart");
  }

  /** Firecracker opens the TAP at this call: under the jailer, the jailed uid must own it. */
  private void networkInterface(FirecrackerApi api, VmSpec spec) throws IOException {
    try {
      api.networkInterface(IFACE_ID, spec.nic().tapName(), spec.nic().mac());
    } catch (VmmException e) {
      if (jailer().isEmpty()) {
        throw e;
      }
      int uid = recordedUid(spec.layout(), spec.id());
      throw new VmmException(
          e.getMessage()
              + " (the jailed Firecracker runs as uid "
              + uid
              + " without CAP_NET_ADMIN: make the TAP with `ip tuntap add "
              + spec.nic().tapName()
              + " mode tap user "
              + uid
              + " group "
              + uid
              + "`; Supervisor.tapOwner gives the uid before the start)",
          e);
    }
  }

  private static boolean accepts(Path socket) {
    if (!Files.exists(socket)) {
      return false;
    }
    try (var ch =
        java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public boolean requestShutdown(VmSpec spec, VmLayout layout, VmmProcess process) {
    try {
      new FirecrackerApi(jailRoot(spec).resolve("run/firecracker.socket")).action("SendCtrlAltDel");
      return true;
    } catch (VmmException e) {
      LOG.log(Level.INFO, "SendCtrlAltDel to " + spec.id() + " failed: " + e.getMessage());
      return false;
    }
  }

  @Override
  public void pause(VmSpec spec, VmLayout layout, VmmProcess process) throws IOException {
    api(spec).vmState("Paused");
  }

  @Override
  public void resume(VmSpec spec, VmLayout layout, VmmProcess process) throws IOException {
    api(spec).vmState("Resumed");
  }

  @Override
  public boolean paused(VmSpec spec, VmLayout layout, VmmProcess process) throws IOException {
    return "Paused".equals(api(spec).instanceState());
  }

  private FirecrackerApi api(VmSpec spec) {
    return new FirecrackerApi(jailRoot(spec).resolve("run/firecracker.socket"));
  }

  /** Kept in the state dir (hard-linked into the jail, where Firecracker writes it). */
  @Override
  public Optional<Path> metricsFile(VmSpec spec, VmLayout layout) {
    return Optional.of(layout.dir().resolve("firecracker.metrics"));
  }

  @Override
  public boolean flushMetrics(VmSpec spec, VmLayout layout, VmmProcess process) {
    try {
      new FirecrackerApi(jailRoot(spec).resolve("run/firecracker.socket")).action("FlushMetrics");
      return true;
    } catch (VmmException e) {
      LOG.log(Level.INFO, "FlushMetrics to " + spec.id() + " failed: " + e.getMessage());
      return false;
    }
  }

  @Override
  public void cleanup(VmSpec spec, VmLayout layout) throws IOException {
    FileTrees.delete(jailRoot(spec).getParent());
    if (Files.exists(jailInfo(layout))
        && JSON.readTree(jailInfo(layout).toFile()).path("jailer").asBoolean()) {
      Path cgroup = config.cgroupRoot().resolve(config.parentCgroup()).resolve(spec.id());
      try {
        Files.deleteIfExists(cgroup);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "could not remove cgroup " + cgroup + ": " + e.getMessage());
      }
    }
    Files.deleteIfExists(jailInfo(layout));
    uids.release(spec.id());
  }
}
