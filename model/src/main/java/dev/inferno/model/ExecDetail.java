package dev.inferno.model;

import java.util.List;

/**
 * {@code GET /v1/exec/{id}}: one exec, as the daemon keeps it in memory until its VM is removed.
 *
 * @param id 64 hex digits
 * @param vmId the VM it runs in
 * @param running started and not ended
 * @param exitCode once ended (126/127 when the command could not start, 137 when the VM stopped)
 * @param pid its pid in the guest, once started
 * @param error why it could not start or was cut off, else null
 * @param cmd the command
 * @param tty with a terminal
 * @param stdin with an open stdin
 */
public record ExecDetail(
    String id,
    String vmId,
    boolean running,
    Integer exitCode,
    Integer pid,
    String error,
    List<String> cmd,
    boolean tty,
    boolean stdin) {}
