package dev.inferno.kiln.vm;

import java.nio.file.Path;

/**
 * The per-VM state directory. Everything kiln knows about a VM lives here, so a restarted kiln
 * re-adopts it from disk alone.
 *
 * <pre>
 * &lt;state&gt;/
 *   spec.json          the VmSpec (written first; adoption reads it back)
 *   vmm.json           {"vmm":"qemu","pid":N,"start_time":T}: the VMM process (start time = field 22
 *                      of /proc/N/stat, so a reused pid is never mistaken for the VMM)
 *   vmm.log            the VMM's own stdout/stderr (QEMU errors; Firecracker without jailer)
 *   console.log        the guest serial console (ends with "INFERNO-EXIT {json}" from init)
 *   initramfs.cpio     per-VM initramfs: /inferno/init + /inferno/run.json
 *   scratch.ext4       the writable disk (sparse ext4), when the spec asks for one; kept across
 *                      boots (Supervisor.startAgain)
 *   logs.sock exit.sock control.sock metrics.sock
 *                      QEMU: host listeners its virtio-serial chardevs connect to
 *   qmp.sock           QEMU: its QMP server (pause, resume, status)
 *   previous-boot/     the last boot's exit.json, console and VMM logs, once the VM booted again
 *   logs/              the log store (records, index)
 *   exit.json          the exit record, written atomically once the VM is gone
 *   jail/firecracker/&lt;id&gt;/root/
 *                      Firecracker's chroot (jailer --chroot-base-dir jail): hard links of kernel,
 *                      initramfs and disks, run/firecracker.socket (API), v.sock and v.sock_&lt;port&gt;
 *                      (hybrid vsock), firecracker.log, firecracker.metrics, firecracker.pid
 * </pre>
 *
 * On cleanup the sockets, the jail and the VMM files go; spec.json, console.log, vmm.log, logs/ and
 * exit.json stay.
 */
public record VmLayout(Path dir) {

  /** sun_path holds 108 bytes including the terminating NUL. */
  public static final int MAX_SOCKET_PATH = 107;

  public Path spec() {
    return dir.resolve("spec.json");
  }

  public Path pidFile() {
    return dir.resolve("vmm.json");
  }

  public Path vmmLog() {
    return dir.resolve("vmm.log");
  }

  public Path console() {
    return dir.resolve("console.log");
  }

  public Path initramfs() {
    return dir.resolve("initramfs.cpio");
  }

  public Path writableDisk() {
    return dir.resolve("scratch.ext4");
  }

  /** QEMU: the host-side unix socket of a channel ("logs", "exit", "control", "metrics"). */
  public Path channelSocket(String channel) {
    return dir.resolve(channel + ".sock");
  }

  /** QEMU: its QMP socket (pause/resume); QEMU listens, kiln connects per command. */
  public Path qmpSocket() {
    return dir.resolve("qmp.sock");
  }

  public Path logsDir() {
    return dir.resolve("logs");
  }

  public Path exitRecord() {
    return dir.resolve("exit.json");
  }

  public Path jailBase() {
    return dir.resolve("jail");
  }

  /** The jailer's chroot: {@code <chroot_base>/<exec_file_name>/<id>/root}. */
  public Path jailRoot(String execFileName, String id) {
    return jailBase().resolve(execFileName).resolve(id).resolve("root");
  }

  /** Fails with a clear message when a socket path would not fit into sun_path. */
  public static Path checkSocketPath(Path socket) {
    int len = socket.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (len > MAX_SOCKET_PATH) {
      throw new IllegalArgumentException(
          "unix socket path is "
              + len
              + " bytes, over the kernel's limit of "
              + MAX_SOCKET_PATH
              + ": "
              + socket
              + " (use a shorter state directory)");
    }
    return socket;
  }
}
