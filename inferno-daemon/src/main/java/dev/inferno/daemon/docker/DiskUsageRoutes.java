package dev.inferno.daemon.docker;

import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.images.ImageUsage;
import dev.inferno.daemon.store.VmNetwork;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.model.Volume;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /system/df} ({@code docker system df}): what images, containers and volumes take on
 * the host's disk, each figure from the service that owns the files (ImageOps for image blobs and
 * disks, VmService for a VM's writable disk, VolumeService for volume files), all as the blocks
 * they allocate, not their (sparse) apparent sizes. inferno has no builder: the build cache is
 * always empty.
 */
final class DiskUsageRoutes {
  private static final Set<String> TYPES = Set.of("container", "image", "volume", "build-cache");

  private final DockerContext ctx;

  DiskUsageRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of(new Route("GET", "/system/df", this::df));
  }

  private void df(Exchange ex) throws Exception {
    Set<String> want = types(ex);
    boolean old = DockerApi.atMost(ex, "1.43");
    Map<String, Object> body = new LinkedHashMap<>();
    ImageUsage usage = null;
    List<ImageInfo> images = List.of();
    if (want.contains("image") || want.contains("container")) {
      usage = ctx.images().usage();
      images = ctx.images().all();
    }
    if (want.contains("image")) {
      if (usage.totalBytes() > 0) {
        body.put("LayersSize", usage.totalBytes()); // dockerd's omitempty
      }
      List<ImageShapes.Summary> out = new ArrayList<>();
      for (ImageInfo i : images) {
        ImageUsage.Share s = usage.of(i.manifestDigest());
        int users = ctx.images().users(i, false).size();
        out.add(ImageRoutes.summary(i, users, s.sizeBytes(), s.sharedBytes(), old));
      }
      body.put("Images", out);
    } else {
      body.put("Images", null);
    }
    body.put("Containers", want.contains("container") ? containers(usage, images) : null);
    body.put("Volumes", want.contains("volume") ? volumes() : null);
    body.put("BuildCache", want.contains("build-cache") ? List.of() : null);
    ex.send(200, body);
  }

  /** dockerd's {@code type}: repeatable, from API 1.42; none (or an older client) is all. */
  private static Set<String> types(Exchange ex) {
    List<String> given = ex.queryAll("type");
    if (given.isEmpty() || DockerApi.atMost(ex, "1.41")) {
      return TYPES;
    }
    for (String t : given) {
      if (!TYPES.contains(t)) {
        throw ApiException.badRequest("unknown object type: " + t);
      }
    }
    return Set.copyOf(given);
  }

  /** Every container, newest first, with SizeRw (its writable disk) and SizeRootFs (+ image). */
  private List<ContainerShapes.Summary> containers(ImageUsage usage, List<ImageInfo> images) {
    ContainerSizes sizes = ContainerSizes.of(ctx, usage, images);
    Map<String, VmNetwork> nets = new HashMap<>();
    for (VmNetwork n : ctx.vms().store().networks()) {
      nets.put(n.vmId(), n);
    }
    Instant now = Instant.now();
    String networkId = NetworkShapes.Net.BRIDGE.id(ctx.daemonId());
    List<ContainerShapes.Summary> out = new ArrayList<>();
    List<VmRecord> all = new ArrayList<>(ctx.vms().list(true));
    all.sort(Comparator.comparing(VmRecord::createdAt).reversed());
    for (VmRecord r : all) {
      long rw = sizes.rw(r);
      var health = r.state().live() ? ctx.health().apply(r.id()) : null;
      out.add(
          ContainerShapes.summary(
              r, nets.get(r.id()), networkId, health, now, rw, sizes.rootFs(r)));
    }
    return out;
  }

  /** Every volume with UsageData: Size (its file's allocated bytes, -1 unknown), RefCount. */
  private List<Map<String, Object>> volumes() {
    if (ctx.vms().volumes() == null) {
      return List.of();
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (Volume v : ctx.vms().volumes().list(true)) {
      Map<String, Object> m = VolumeRoutes.shape(v);
      Map<String, Object> usage = new LinkedHashMap<>();
      usage.put("Size", v.usedBytes() == null ? -1 : v.usedBytes());
      usage.put("RefCount", v.usedBy().size());
      m.put("UsageData", usage);
      out.add(m);
    }
    return out;
  }
}
