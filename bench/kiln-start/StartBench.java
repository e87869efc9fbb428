import dev.inferno.kiln.protocol.ProcessSpec;
import dev.inferno.kiln.protocol.RunConfig;
import dev.inferno.kiln.qemu.Qemu;
import dev.inferno.kiln.vm.DetachedLauncher;
import dev.inferno.kiln.vm.GuestSession;
import dev.inferno.kiln.guest.GuestTransport;
import dev.inferno.kiln.vm.LinkedGuest;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.VmLayout;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.Vmm;
import dev.inferno.kiln.vm.VmmKind;
import dev.inferno.kiln.vm.VmmProcess;
import dev.inferno.sys.Processes;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * kiln supervision benchmarks (issue 5):
 * 1. "spec ready" → VMM process started: Supervisor.start with QEMU (state dir, initramfs, writable
 *    disk none, guest listeners, detached launch, pid + start time), the VMM killed right after.
 * 2. per-VM supervision memory: N supervised fake VMs (a detached `sleep` as the "VMM", a real
 *    GuestLink with its four listeners and log store each) in this JVM: heap after GC and RSS growth.
 */
public class StartBench {
  public static void main(String[] args) throws Exception {
    Path kernel = Path.of(args[0]);
    Path init = Path.of(args[1]);
    int runs = Integer.parseInt(args[2]);
    int vms = Integer.parseInt(args[3]);
    Path work = Path.of(args[4]);
    startLatency(kernel, init, runs, work.resolve("start"));
    memory(kernel, init, vms, work.resolve("mem"));
  }

  static VmSpec spec(String id, Path kernel, Path init, Path dir) {
    RunConfig run =
        RunConfig.builder(id, new ProcessSpec(List.of("true"), List.of(), "/", ProcessSpec.ROOT,
            ProcessSpec.DEFAULT_STOP_SIGNAL)).build();
    return new VmSpec(id, kernel, init, run, null, 0, 1, 128, Duration.ofSeconds(1), VmmKind.QEMU,
        dir.resolve(id), null);
  }

  static void startLatency(Path kernel, Path init, int runs, Path dir) throws Exception {
    Supervisor sup = new Supervisor(
        Map.of(VmmKind.QEMU, new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.TCG))),
        LinkedGuest.factory());
    double[] ms = new double[runs];
    for (int i = 0; i < runs + 2; i++) {
      VmSpec s = spec("start" + i, kernel, init, dir);
      long t0 = System.nanoTime();
      RunningVm vm = sup.start(s);
      long t1 = System.nanoTime();
      Processes.kill(vm.process().pid(), Processes.SIGKILL);
      vm.exit().join();
      if (i >= 2) { // two warm-up runs
        ms[i - 2] = (t1 - t0) / 1e6;
      }
    }
    Arrays.sort(ms);
    System.out.printf("spec ready -> QEMU started (Supervisor.start, %d runs): median %.1f ms, p90 %.1f ms, min %.1f ms, max %.1f ms%n",
        runs, ms[runs / 2], ms[(int) (runs * 0.9)], ms[0], ms[runs - 1]);
  }

  /** A VMM stand-in: a detached sleep, so supervision costs are measured without guests. */
  static final class SleepVmm implements Vmm {
    public VmmKind kind() { return VmmKind.QEMU; }
    public Optional<String> unavailableReason() { return Optional.empty(); }
    public GuestTransport transport(VmSpec spec, VmLayout layout) {
      return new Qemu(Qemu.Config.defaults()).transport(spec, layout);
    }
    public VmmProcess start(VmSpec spec, VmLayout layout) throws java.io.IOException {
      long pid = DetachedLauncher.launch(List.of("sleep", "3600"), layout.vmmLog(), layout.dir());
      return VmmProcess.of(VmmKind.QEMU, pid);
    }
    public boolean requestShutdown(VmSpec spec, VmLayout layout, VmmProcess p) { return false; }
    public void cleanup(VmSpec spec, VmLayout layout) {}
  }

  static long rssKib() throws Exception {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  static long heapAfterGc() throws Exception {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  static void memory(Path kernel, Path init, int n, Path dir) throws Exception {
    Supervisor sup = new Supervisor(Map.of(VmmKind.QEMU, new SleepVmm()), LinkedGuest.factory());
    // warm up the code paths with a few VMs, then measure the growth from the next n
    List<RunningVm> all = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      all.add(sup.start(spec("warm" + i, kernel, init, dir)));
    }
    long heap0 = heapAfterGc();
    long rss0 = rssKib();
    for (int i = 0; i < n; i++) {
      all.add(sup.start(spec("m" + i, kernel, init, dir)));
    }
    long heap1 = heapAfterGc();
    long rss1 = rssKib();
    System.out.printf("%d supervised VMs (GuestLink with 4 listeners + LogStore + watcher each): heap +%.1f KiB/VM, RSS +%.1f KiB/VM%n",
        n, (heap1 - heap0) / 1024.0 / n, (rss1 - rss0) / (double) n);
    for (RunningVm vm : all) {
      Processes.kill(vm.process().pid(), Processes.SIGKILL);
    }
    for (RunningVm vm : all) {
      vm.exit().join();
    }
  }
}
