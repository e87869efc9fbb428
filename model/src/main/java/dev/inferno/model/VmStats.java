package dev.inferno.model;

import java.time.Instant;

/**
 * One reading of {@code GET /v1/vms/{id}/stats} ({@code inferno stats}): the figures {@code docker
 * stats} shows, from the guest's METRICS (PROTOCOL.md §6).
 *
 * @param id the VM's full id
 * @param name its name
 * @param readAt when the guest took the newer of the two samples behind these figures
 * @param cpuPercent CPU use over the last interval, 100 per busy vCPU (Docker's figure: Δ busy / Δ
 *     total × vCPUs × 100); null until two samples are known
 * @param cpus the VM's vCPUs
 * @param cpuSeconds CPU time the guest spent busy (user + system) since boot
 * @param memoryUsageBytes memory in use: the guest's root cgroup (memory.current) where the guest
 *     kernel has memcg, else MemTotal − MemAvailable
 * @param memoryLimitBytes the VM's memory
 * @param netRxBytes bytes received by the guest's interfaces (lo left out)
 * @param netTxBytes bytes sent by them
 * @param blockReadBytes bytes read from the guest's disks
 * @param blockWriteBytes bytes written to them
 * @param pids processes in the guest, kernel threads left out
 */
public record VmStats(
    String id,
    String name,
    Instant readAt,
    Double cpuPercent,
    int cpus,
    double cpuSeconds,
    long memoryUsageBytes,
    long memoryLimitBytes,
    long netRxBytes,
    long netTxBytes,
    long blockReadBytes,
    long blockWriteBytes,
    long pids) {}
