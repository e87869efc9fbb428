package dev.inferno.kiln.run;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The user's {@code run} flags. {@code null} means "not given"; an empty {@code entrypoint} list is
 * given ({@code --entrypoint ""}) and clears the image's.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Overrides(
    @JsonProperty("entrypoint") List<String> entrypoint,
    @JsonProperty("cmd") List<String> cmd,
    @JsonProperty("env") List<String> env,
    @JsonProperty("workdir") String workdir,
    @JsonProperty("user") String user,
    @JsonProperty("stop_signal") String stopSignal) {
  public static final Overrides NONE = new Overrides(null, null, null, null, null, null);

  public Overrides {
    entrypoint = entrypoint == null ? null : List.copyOf(entrypoint);
    cmd = cmd == null ? null : List.copyOf(cmd);
    env = env == null ? List.of() : List.copyOf(env);
  }

  public Overrides withStopSignal(String signal) {
    return new Overrides(entrypoint, cmd, env, workdir, user, signal);
  }
}
