package dev.inferno.kiln.run;

import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.protocol.ProcessSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Docker's run semantics, in two steps as moby has them: {@link #merge} when the VM is created
 * (moby's {@code daemon/commit.go merge} and create-time checks; the result is what {@code inspect}
 * shows), {@link #process} when it starts (the container environment: HOSTNAME, PATH). The guest's
 * init runs the result as is, resolving only the user, HOME and argv[0]'s PATH lookup.
 */
public final class DockerRun {
  public static final String DEFAULT_PATH =
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private DockerRun() {}

  /** Both steps: the process for a VM with this hostname ({@code -t}: on a terminal). */
  public static ProcessSpec resolve(ImageConfig image, Overrides overrides, String hostname) {
    ProcessSpec p = process(merge(image, overrides), hostname);
    return overrides.tty() ? p.withTerminal(true, false, null) : p;
  }

  /**
   * Merges the user's flags over the image's config.
   *
   * <ul>
   *   <li>No user entrypoint (absent or empty): an absent or empty user cmd takes the image's Cmd,
   *       and an <em>absent</em> entrypoint takes the image's ({@code --entrypoint ""} clears it).
   *   <li>A non-empty user entrypoint drops the image's Cmd (the user's cmd, if any, follows it).
   *   <li>Env: the image's, then the user's, then {@code TERM=xterm} with {@code -t} when no entry
   *       set TERM (moby gives a terminal's container that TERM); workdir, user and stop signal:
   *       the user's if set, else the image's, else {@code /}, root and SIGTERM.
   * </ul>
   *
   * @throws IllegalArgumentException when nothing would run or the workdir is relative
   */
  public static MergedConfig merge(ImageConfig image, Overrides overrides) {
    List<String> entrypoint = overrides.entrypoint();
    List<String> cmd = overrides.cmd() == null ? List.of() : overrides.cmd();
    if (entrypoint == null || entrypoint.isEmpty()) {
      if (cmd.isEmpty()) {
        cmd = orEmpty(image.cmd());
      }
      if (entrypoint == null) {
        entrypoint = orEmpty(image.entrypoint());
      }
    }
    if (entrypoint.isEmpty() && cmd.isEmpty()) {
      throw new IllegalArgumentException(
          "no command specified: the image has no Entrypoint or Cmd;"
              + " give a command (or an entrypoint)");
    }
    List<String> env = new ArrayList<>();
    image.env().forEach(e -> mergeEnv(env, e));
    overrides.env().forEach(e -> mergeEnv(env, e));
    if (overrides.tty()) {
      addTerm(env);
    }
    String workdir = firstSet(overrides.workdir(), image.workingDir(), "/");
    if (!workdir.startsWith("/")) {
      throw new IllegalArgumentException(
          "the working directory \"" + workdir + "\" is invalid: it needs to be an absolute path");
    }
    return new MergedConfig(
        entrypoint,
        cmd,
        env,
        workdir,
        firstSet(overrides.user(), image.user(), null),
        firstSet(overrides.stopSignal(), image.stopSignal(), ProcessSpec.DEFAULT_STOP_SIGNAL));
  }

  /** The process of a merged config: HOSTNAME first (the config's env may replace it), PATH. */
  public static ProcessSpec process(MergedConfig c, String hostname) {
    List<String> env = new ArrayList<>();
    env.add("HOSTNAME=" + hostname);
    c.env().forEach(e -> mergeEnv(env, e));
    if (env.stream().noneMatch(e -> key(e).equals("PATH"))) {
      env.add("PATH=" + DEFAULT_PATH);
    }
    return new ProcessSpec(
        c.argv(), env, c.workdir(), c.user() == null ? ProcessSpec.ROOT : c.user(), c.stopSignal());
  }

  /**
   * Docker's exec ({@code moby daemon/exec.go}): what an exec session in a VM with this merged
   * config runs.
   *
   * <ul>
   *   <li>env: the VM's process env ({@link #process}: HOSTNAME, the merged env, PATH), then {@code
   *       TERM=xterm} with the exec's {@code -t} when no entry set TERM, then the exec's {@code -e}
   *       (a later {@code K=…} replaces an earlier one in place);
   *   <li>user: the exec's {@code -u} if set, else the VM's; workdir: {@code -w} if set (it must be
   *       absolute), else the VM's; argv: the exec's command, which must not be empty.
   * </ul>
   *
   * @param hostname the VM's hostname (its HOSTNAME)
   * @throws IllegalArgumentException when the command is empty or the workdir relative
   */
  public static ExecRequest.Command exec(MergedConfig vm, String hostname, ExecOverrides exec) {
    if (exec.cmd().isEmpty()) {
      throw new IllegalArgumentException("no exec command specified: give a command to run");
    }
    String workdir = firstSet(exec.workdir(), vm.workdir(), "/");
    if (!workdir.startsWith("/")) {
      throw new IllegalArgumentException(
          "the working directory \"" + workdir + "\" is invalid: it needs to be an absolute path");
    }
    List<String> env = new ArrayList<>(process(vm, hostname).env());
    if (exec.tty()) {
      addTerm(env);
    }
    exec.env().forEach(e -> mergeEnv(env, e));
    return new ExecRequest.Command(
        exec.cmd(),
        env,
        firstSet(exec.user(), vm.user(), null),
        workdir,
        exec.tty(),
        exec.stdin(),
        exec.consoleSize());
  }

  /** A terminal's TERM, unless the env has one already. */
  private static void addTerm(List<String> env) {
    if (env.stream().noneMatch(e -> key(e).equals("TERM"))) {
      env.add("TERM=xterm");
    }
  }

  private static String key(String entry) {
    int eq = entry.indexOf('=');
    return eq < 0 ? entry : entry.substring(0, eq);
  }

  /** A later {@code K=…} replaces an earlier one in place. */
  private static void mergeEnv(List<String> env, String entry) {
    String k = key(entry);
    for (int i = 0; i < env.size(); i++) {
      if (key(env.get(i)).equals(k)) {
        env.set(i, entry);
        return;
      }
    }
    env.add(entry);
  }

  private static List<String> orEmpty(List<String> l) {
    return l == null ? List.of() : l;
  }

  private static String firstSet(String a, String b, String otherwise) {
    if (a != null && !a.isEmpty()) {
      return a;
    }
    return b != null && !b.isEmpty() ? b : otherwise;
  }
}
