package dev.inferno.kiln.run;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The user's {@code run} flags. {@code null} means "not given"; an empty {@code entrypoint} list is
 * given ({@code --entrypoint ""}) and clears the image's. {@code tty} is Docker's {@code -t} (the
 * merge gives a terminal {@code TERM=xterm} when the env has no TERM).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Overrides(
    @JsonProperty("entrypoint") List<String> entrypoint,
    @JsonProperty("cmd") List<String> cmd,
    @JsonProperty("env") List<String> env,
    @JsonProperty("workdir") String workdir,
    @JsonProperty("user") String user,
    @JsonProperty("stop_signal") String stopSignal,
    @JsonProperty("tty") boolean tty) {
  public static final Overrides NONE = new Overrides(null, null, null, null, null, null);

  /** Flags without {@code -t}. */
  public Overrides(
      List<String> entrypoint,
      List<String> cmd,
      List<String> env,
      String workdir,
      String user,
      String stopSignal) {
    this(entrypoint, cmd, env, workdir, user, stopSignal, false);
  }

  public Overrides {
    entrypoint = entrypoint == null ? null : List.copyOf(entrypoint);
    cmd = cmd == null ? null : List.copyOf(cmd);
    env = env == null ? List.of() : List.copyOf(env);
  }

  public Overrides withStopSignal(String signal) {
    return new Overrides(entrypoint, cmd, env, workdir, user, signal, tty);
  }
}
