package dev.inferno.daemon.docker;

import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.model.VmState;
import dev.inferno.model.VolumePruneResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Docker's prune endpoints, which Testcontainers calls at JVM exit when Ryuk is off (with its
 * session's labels as filters) and {@code docker * prune} calls: each removes through the service
 * that owns the thing (VmService, VolumeService, ImageOps), with dockerd's filters and answers.
 */
final class PruneRoutes {
  private static final Set<String> CONTAINER_FILTERS = Set.of("label", "until");
  private static final Set<String> VOLUME_FILTERS = Set.of("label", "all");
  private static final Set<String> IMAGE_FILTERS = Set.of("label", "dangling", "until");
  private static final Set<String> NETWORK_FILTERS = Set.of("label", "until");

  /**
   * What dockerd's builder takes: until (unused-for), labels and BuildKit's cache record fields.
   */
  private static final Set<String> BUILD_FILTERS =
      Set.of(
          "until",
          "unused-for",
          "label",
          "label!",
          "id",
          "parent",
          "type",
          "description",
          "inuse",
          "shared",
          "private");

  /** Go's time.ParseDuration grammar ({@code 24h}, {@code 1h30m}, {@code 0}). */
  private static final java.util.regex.Pattern GO_DURATION =
      java.util.regex.Pattern.compile("[-+]?(0|((\\d+(\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h))+)");

  private final DockerContext ctx;

  PruneRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of(
        new Route("POST", "/containers/prune", this::containers),
        new Route("POST", "/volumes/prune", this::volumes),
        new Route("POST", "/images/prune", this::images),
        new Route("POST", "/networks/prune", this::networks),
        new Route("POST", "/build/prune", this::buildCache));
  }

  private DockerFilters filters(Exchange ex, Set<String> known) {
    return DockerFilters.parse(ex.query("filters"), ctx.json(), known);
  }

  /** {@code until} as dockerd: things created before it (RFC 3339 or Unix seconds). */
  private static java.time.Instant until(DockerFilters f) {
    List<String> u = f.get("until");
    if (u.isEmpty()) {
      return null;
    }
    String v = u.getLast();
    try {
      if (v.matches("\\d+(\\.\\d+)?")) {
        return java.time.Instant.ofEpochMilli((long) (Double.parseDouble(v) * 1000));
      }
      return java.time.OffsetDateTime.parse(v).toInstant();
    } catch (RuntimeException e) {
      throw ApiException.badRequest("invalid filter 'until=" + v + "': RFC 3339 or Unix seconds");
    }
  }

  /** Stopped containers (created or exited) the filters admit; running ones stay, as dockerd. */
  private void containers(Exchange ex) throws Exception {
    DockerFilters f = filters(ex, CONTAINER_FILTERS);
    java.time.Instant until = until(f);
    List<String> deleted = new ArrayList<>();
    long reclaimed = 0; // what their writable disks took, as ps --size and system df count it
    for (VmRecord r : ctx.vms().list(true)) {
      if ((r.state() == VmState.EXITED || r.state() == VmState.CREATED)
          && f.labels(r.request().labels())
          && (until == null || r.createdAt().isBefore(until))) {
        long rw = ctx.vms().writableDiskBytes(r.id()).orElse(0);
        ctx.vms().remove(r.id(), false);
        deleted.add(r.id());
        reclaimed += rw;
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ContainersDeleted", deleted);
    body.put("SpaceReclaimed", reclaimed);
    ex.send(200, body);
  }

  /** Unused volumes: anonymous ones, or every unused one with {@code all=true} (Docker ≥ 23). */
  private void volumes(Exchange ex) throws Exception {
    if (ctx.vms().volumes() == null) {
      throw ApiException.notFound("this daemon serves no volumes");
    }
    DockerFilters f = filters(ex, VOLUME_FILTERS);
    boolean all = f.get("all").stream().anyMatch(v -> v.equals("true") || v.equals("1"));
    VolumePruneResult r = ctx.vms().volumes().prune(all, v -> f.labels(v.labels()));
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("VolumesDeleted", r.removed());
    body.put("SpaceReclaimed", r.reclaimedBytes());
    ex.send(200, body);
  }

  /**
   * Images no container uses. dockerd's default removes only dangling images (no name: one whose
   * last name {@code docker tag} moved to another image); {@code dangling=false} every unused image
   * the filters admit. Each goes by its manifest digest, all its names with it.
   */
  private void images(Exchange ex) throws Exception {
    DockerFilters f = filters(ex, IMAGE_FILTERS);
    boolean danglingOnly = !f.get("dangling").stream().anyMatch(v -> v.equals("false"));
    java.time.Instant until = until(f);
    List<Map<String, String>> deleted = new ArrayList<>();
    // what the image files took, as system df counts it: a blob another image keeps stays
    long before = ctx.images().usage().totalBytes();
    for (ImageInfo i : ctx.images().all()) {
      if ((!danglingOnly || i.references().isEmpty())
          && f.labels(i.labels())
          && (until == null || i.createdAt() == null || i.createdAt().isBefore(until))
          && ctx.images().users(i, false).isEmpty()) {
        ctx.images().remove(i.manifestDigest(), false);
        i.references().forEach(r -> deleted.add(Map.of("Untagged", DockerEvents.familiar(r))));
        deleted.add(Map.of("Deleted", i.configDigest()));
      }
    }
    long after = deleted.isEmpty() ? before : ctx.images().usage().totalBytes();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ImagesDeleted", deleted);
    body.put("SpaceReclaimed", Math.max(0, before - after));
    ex.send(200, body);
  }

  /**
   * inferno has no user-defined networks (each VM has its own TAP; docs/networking.md): there is
   * never one to prune.
   */
  private void networks(Exchange ex) throws Exception {
    filters(ex, NETWORK_FILTERS); // still refuses a filter dockerd would not take
    ex.send(200, Map.of("NetworksDeleted", List.of()));
  }

  /**
   * inferno has no builder, so no build cache: nothing to delete, ever. Answered (rather than 404)
   * so that {@code docker system prune} finishes; filters dockerd would refuse are refused.
   */
  private void buildCache(Exchange ex) throws Exception {
    DockerFilters f = filters(ex, BUILD_FILTERS);
    for (var e : f.values().entrySet()) {
      if (e.getValue().size() > 1) {
        throw ApiException.badRequest("filters expect only one value"); // dockerd's words
      }
    }
    for (String key : List.of("until", "unused-for")) {
      for (String v : f.get(key)) {
        if (!GO_DURATION.matcher(v).matches()) {
          throw ApiException.badRequest(
              "\"" + key + "\" filter expects a duration (e.g., '24h'): invalid duration " + v);
        }
      }
    }
    String keep = ex.query("keep-storage");
    if (keep != null && !keep.isEmpty() && !keep.matches("-?\\d+")) {
      throw ApiException.badRequest(
          "keep-storage is in bytes and expects an integer, got " + keep); // dockerd's words
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("CachesDeleted", null);
    body.put("SpaceReclaimed", 0);
    ex.send(200, body);
  }
}
