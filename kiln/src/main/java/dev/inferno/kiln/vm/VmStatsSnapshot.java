package dev.inferno.kiln.vm;

import dev.inferno.kiln.protocol.GuestMetrics;
import java.time.Instant;

/**
 * One reading of what a running VM uses, for {@code docker stats}-like figures: the guest's own
 * view (init's latest METRICS frame: memory, disks, network, pids) beside the host's view of the
 * VMM process (CPU time, resident memory). Two readings give CPU % as Docker computes it: the VMM's
 * CPU time delta over the wall time delta (100 % = one host CPU).
 *
 * @param readAt when this was read
 * @param guest the latest METRICS frame, or null before the first (or with metrics off)
 * @param vmm the VMM process's usage, or null when it is gone
 * @param memoryLimitBytes the guest's memory (the most it can use)
 * @param vcpus the guest's virtual CPUs
 * @param paused whether the VM is paused
 */
public record VmStatsSnapshot(
    Instant readAt,
    GuestMetrics guest,
    VmmUsage vmm,
    long memoryLimitBytes,
    int vcpus,
    boolean paused) {}
