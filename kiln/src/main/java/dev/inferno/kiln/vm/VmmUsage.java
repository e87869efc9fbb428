package dev.inferno.kiln.vm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
    Path proc = Path.of("/proc", Long.toString(p.pid()));
    try {
      String stat = Files.readString(proc.resolve("stat"), StandardCharsets.UTF_8);
      String status = Files.readString(proc.resolve("status"), StandardCharsets.UTF_8);
      long[] f = statFields(stat);
      if (f[2] != p.startTime()) {
        return Optional.empty();
      }
      return Optional.of(new VmmUsage((f[0] + f[1]) * NANOS_PER_TICK, rssBytes(status)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** utime (14), stime (15) and starttime (22) of a /proc/pid/stat line (comm may hold ')'). */
  static long[] statFields(String stat) {
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      throw new IllegalArgumentException("not a /proc/pid/stat line: " + stat);
    }
    String[] rest = stat.substring(close + 2).trim().split(" ", -1);
    // rest[0] is field 3 (state)
    return new long[] {
      Long.parseLong(rest[11]), Long.parseLong(rest[12]), Long.parseLong(rest[19])
    };
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
