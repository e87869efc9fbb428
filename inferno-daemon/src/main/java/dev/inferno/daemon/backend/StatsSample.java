package dev.inferno.daemon.backend;

/**
 * One raw reading of a running VM's counters, as the guest reported them (PROTOCOL.md §6): every
 * figure is cumulative since the guest booted, so two readings give rates ({@code
 * dev.inferno.daemon.stats.StatsFigures} turns them into Docker's figures).
 *
 * @param timeNanos the guest's clock when it took the reading (orders readings, spaces them)
 * @param busyMillis CPU time spent in user + system mode, all vCPUs together
 * @param idleMillis CPU time spent idle, all vCPUs together
 * @param memoryTotalBytes MemTotal
 * @param memoryAvailableBytes MemAvailable
 * @param cgroupMemoryBytes memory.current of the guest's root cgroup, 0 without memcg
 * @param netRxBytes received by the guest's interfaces
 * @param netTxBytes sent by them
 * @param blockReadBytes read from the guest's disks
 * @param blockWriteBytes written to them
 * @param pids processes in the guest (0 from a guest that does not report it)
 */
public record StatsSample(
    long timeNanos,
    long busyMillis,
    long idleMillis,
    long memoryTotalBytes,
    long memoryAvailableBytes,
    long cgroupMemoryBytes,
    long netRxBytes,
    long netTxBytes,
    long blockReadBytes,
    long blockWriteBytes,
    long pids) {}
