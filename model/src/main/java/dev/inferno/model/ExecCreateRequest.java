package dev.inferno.model;

import java.util.List;

/**
 * Body of {@code POST /v1/vms/{id}/exec}: Docker's exec create. Null means "the VM's".
 *
 * @param cmd the command, not empty
 * @param env {@code K=V} over the VM's environment ({@code -e})
 * @param user user[:group] ({@code -u}); null: the VM's
 * @param workdir absolute working directory ({@code -w}); null: the VM's
 * @param tty a pseudo-terminal ({@code -t}): the output is one raw stream
 * @param stdin the exec's stdin is fed by its start stream ({@code -i})
 * @param consoleSize {@code [rows, cols]} of the terminal at start
 */
public record ExecCreateRequest(
    List<String> cmd,
    List<String> env,
    String user,
    String workdir,
    Boolean tty,
    Boolean stdin,
    List<Integer> consoleSize) {}
