package dev.inferno.daemon.stats;

import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.model.VmStats;
import java.time.Instant;

/** The one place raw guest counters become the figures {@code docker stats} shows. */
public final class StatsFigures {
  private StatsFigures() {}

  /**
   * Docker's figures from the newest reading and the one before it.
   *
   * @param previous the reading before {@code last} from the same boot, or null (no CPU % then)
   * @param last the newest reading
   * @param cpus the VM's vCPUs
   * @param memoryLimitBytes the VM's memory
   * @param readAt when the daemon first saw {@code last}
   */
  public static VmStats of(
      String id,
      String name,
      StatsSample previous,
      StatsSample last,
      int cpus,
      long memoryLimitBytes,
      Instant readAt) {
    return new VmStats(
        id,
        name,
        readAt,
        cpuPercent(previous, last, cpus),
        cpus,
        last.busyMillis() / 1000.0,
        memoryUsage(last),
        memoryLimitBytes,
        last.netRxBytes(),
        last.netTxBytes(),
        last.blockReadBytes(),
        last.blockWriteBytes(),
        last.pids());
  }

  /**
   * Docker's CPU %: the busy share of all CPU time between two readings, times the vCPUs, times 100
   * (so one busy vCPU of two reads 100 %). Null without two readings of one boot in order.
   */
  public static Double cpuPercent(StatsSample previous, StatsSample last, int cpus) {
    if (previous == null || !sameBoot(previous, last)) {
      return null;
    }
    long busy = last.busyMillis() - previous.busyMillis();
    long total = busy + last.idleMillis() - previous.idleMillis();
    if (total <= 0) {
      return 0.0;
    }
    return (double) busy / total * cpus * 100.0;
  }

  /**
   * Whether {@code last} follows {@code previous} in the same boot: later, and no counter went back
   * (a restarted VM's guest counts from 0 again).
   */
  public static boolean sameBoot(StatsSample previous, StatsSample last) {
    return last.timeNanos() > previous.timeNanos()
        && last.busyMillis() >= previous.busyMillis()
        && last.idleMillis() >= previous.idleMillis();
  }

  /**
   * Memory in use as Docker counts a container's: the cgroup's usage where the guest kernel has
   * memcg (the compat kernel), else what the guest cannot hand out (MemTotal − MemAvailable).
   */
  public static long memoryUsage(StatsSample s) {
    if (s.cgroupMemoryBytes() > 0) {
      return s.cgroupMemoryBytes();
    }
    return Math.max(0, s.memoryTotalBytes() - s.memoryAvailableBytes());
  }
}
