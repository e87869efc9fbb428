package dev.inferno.kiln.run;

import java.util.List;

/**
 * The flags of {@code exec} ({@link DockerRun#exec}). {@code null} means "not given".
 *
 * @param cmd the command, not empty
 * @param env {@code -e K=V}, applied over the VM's env
 * @param user {@code -u}, or null for the VM's user
 * @param workdir {@code -w} (absolute), or null for the VM's workdir
 * @param tty {@code -t}
 * @param stdin {@code -i}
 * @param consoleSize {@code [rows, cols]} of the client's terminal, or null
 */
@SuppressWarnings("ArrayRecordComponent") // ExecRequest.Command's shape; copied, never compared
public record ExecOverrides(
    List<String> cmd,
    List<String> env,
    String user,
    String workdir,
    boolean tty,
    boolean stdin,
    int[] consoleSize) {
  public ExecOverrides {
    cmd = cmd == null ? List.of() : List.copyOf(cmd);
    env = env == null ? List.of() : List.copyOf(env);
    consoleSize = consoleSize == null ? null : consoleSize.clone();
  }
}
