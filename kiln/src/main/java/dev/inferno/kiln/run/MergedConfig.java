package dev.inferno.kiln.run;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A VM's config after {@link DockerRun#merge}: what {@code inspect} shows, fixed when the VM is
 * created.
 *
 * @param entrypoint the entrypoint that runs
 * @param cmd its arguments
 * @param env image env, then the user's (a later {@code K=…} replaces an earlier one in place)
 * @param workdir absolute working directory
 * @param user Docker's {@code User}, or null for root
 * @param stopSignal the stop signal as given (the image's, the user's or SIGTERM)
 */
public record MergedConfig(
    List<String> entrypoint,
    List<String> cmd,
    List<String> env,
    String workdir,
    String user,
    String stopSignal) {
  public MergedConfig {
    entrypoint = List.copyOf(entrypoint);
    cmd = List.copyOf(cmd);
    env = List.copyOf(env);
    Objects.requireNonNull(workdir, "workdir");
    Objects.requireNonNull(stopSignal, "stopSignal");
  }

  /** entrypoint ++ cmd. */
  public List<String> argv() {
    List<String> argv = new ArrayList<>(entrypoint);
    argv.addAll(cmd);
    return List.copyOf(argv);
  }
}
