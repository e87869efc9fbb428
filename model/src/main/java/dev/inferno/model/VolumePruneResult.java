package dev.inferno.model;

import java.util.List;

/**
 * What {@code POST /v1/volumes/prune} removed (Docker's VolumesDeleted and SpaceReclaimed).
 *
 * @param removed the names of the volumes removed
 * @param reclaimedBytes what their files took on the host's disk
 */
public record VolumePruneResult(List<String> removed, long reclaimedBytes) {
  public VolumePruneResult {
    removed = removed == null ? List.of() : List.copyOf(removed);
  }
}
