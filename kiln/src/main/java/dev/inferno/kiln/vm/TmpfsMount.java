package dev.inferno.kiln.vm;

import dev.inferno.kiln.protocol.RunConfig;

/**
 * A tmpfs init mounts in the guest ({@code --tmpfs}); the checks are the run config's.
 *
 * @param target where (absolute)
 * @param sizeBytes its size limit; null: the kernel's default (half the guest's memory)
 * @param mode permission bits 0 to 4095; null: 01777
 */
public record TmpfsMount(String target, Long sizeBytes, Integer mode) {
  public TmpfsMount {
    var unused = asRunConfigMount(target, sizeBytes, mode);
  }

  /** The run config's entry for this mount (PROTOCOL.md §5). */
  public RunConfig.Mount.Tmpfs toRunConfig() {
    return asRunConfigMount(target, sizeBytes, mode);
  }

  private static RunConfig.Mount.Tmpfs asRunConfigMount(
      String target, Long sizeBytes, Integer mode) {
    try {
      return new RunConfig.Mount.Tmpfs(target, sizeBytes, mode);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("tmpfs mount: " + e.getMessage(), e);
    }
  }
}
