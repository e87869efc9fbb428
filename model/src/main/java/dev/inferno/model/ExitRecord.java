package dev.inferno.model;

import java.time.Instant;

/**
 * How a VM's process ended.
 *
 * @param code the process's exit code (128+n when killed by signal n, Docker's convention); null if
 *     unknown (the VMM died without reporting one)
 * @param signal the terminating signal's name (e.g. {@code "SIGKILL"}), or null
 * @param oom whether the guest's OOM killer ended the process
 * @param reason why the VM ended when it was not the process's own exit (e.g. "VMM vanished while
 *     the daemon was down"); null otherwise
 * @param finishedAt when the exit was recorded
 */
public record ExitRecord(
    Integer code, String signal, boolean oom, String reason, Instant finishedAt) {}
