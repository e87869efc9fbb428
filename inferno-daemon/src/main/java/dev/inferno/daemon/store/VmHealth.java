package dev.inferno.daemon.store;

import java.time.Instant;

/**
 * A VM's last health verdict, its row in {@code vm_health}: which boot it belongs to (the record's
 * {@code startedAt}), the status and the failing streak. The checks' log is not kept: after a
 * daemon restart it fills again from the next check.
 */
public record VmHealth(String vmId, Instant boot, String status, int failingStreak) {}
