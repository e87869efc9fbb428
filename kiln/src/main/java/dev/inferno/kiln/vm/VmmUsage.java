package dev.inferno.kiln.vm;

import dev.inferno.sys.Processes;
import java.io.IOException;
import java.util.Optional;

/**
 * What the VMM process costs the host, from procfs: its CPU time (the VM's vCPUs are its threads,
 * so this is the VM's CPU as the host sees it, what {@code docker stats} divides by wall time) and
 * its resident memory (guest RAM it touched, plus the VMM itself).
 *
 * @param cpuNanos user + system time of the process and its threads (utime + stime of
 *     /proc/pid/stat, in USER_HZ ticks, which the kernel ABI fixes at 100 a second)
 * @param rssBytes VmRSS of /proc/pid/status
 */
public record VmmUsage(long cpuNanos, long rssBytes) {
  private static final long NANOS_PER_TICK = 10_000_000L;

  /** The process's usage now; empty when it is gone (or the pid was reused). */
  public static Optional<VmmUsage> of(VmmProcess p) throws IOException {
    Optional<String> stat = Processes.procFile(p.pid(), "stat");
    Optional<String> status = Processes.procFile(p.pid(), "status");
    if (stat.isEmpty()
        || status.isEmpty()
        || Long.parseLong(Processes.statField(stat.get(), 22)) != p.startTime()) {
      return Optional.empty();
    }
    long ticks =
        Long.parseLong(Processes.statField(stat.get(), 14))
            + Long.parseLong(Processes.statField(stat.get(), 15));
    return Optional.of(new VmmUsage(ticks * NANOS_PER_TICK, rssBytes(status.get())));
  }

  /** VmRSS of a /proc/pid/status text in bytes; 0 for a process without memory (a zombie). */
  static long rssBytes(String status) {
    for (String line : status.split("\n", -1)) {
      if (line.startsWith("VmRSS:")) {
        // "VmRSS:	  123456 kB"
        return Long.parseLong(line.substring(6).replace("kB", "").strip()) << 10;
      }
    }
    return 0;
  }
}
