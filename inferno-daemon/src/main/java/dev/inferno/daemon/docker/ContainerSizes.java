package dev.inferno.daemon.docker;

import dev.inferno.daemon.backend.ImageInfo;
import dev.inferno.daemon.images.ImageUsage;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.VmService;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A container's {@code SizeRw} (the blocks its writable disk allocates) and {@code SizeRootFs}
 * (that plus its image's files), for {@code docker ps --size} and {@code docker system df}: one
 * rule for both.
 */
final class ContainerSizes {
  private final VmService vms;
  private final Map<String, Long> imageBytes = new HashMap<>();

  private ContainerSizes(VmService vms, ImageUsage usage, List<ImageInfo> images) {
    this.vms = vms;
    for (ImageInfo i : images) {
      imageBytes.put(i.manifestDigest(), usage.of(i.manifestDigest()).sizeBytes());
    }
  }

  /** From the image usage and list the caller already read (df reads them for its images too). */
  static ContainerSizes of(DockerContext ctx, ImageUsage usage, List<ImageInfo> images) {
    return new ContainerSizes(ctx.vms(), usage, images);
  }

  static ContainerSizes of(DockerContext ctx) {
    return of(ctx, ctx.images().usage(), ctx.images().all());
  }

  /** 0 for a VM without a writable disk. */
  long rw(VmRecord r) {
    return vms.writableDiskBytes(r.id()).orElse(0);
  }

  long rootFs(VmRecord r) {
    return rw(r) + imageBytes.getOrDefault(r.imageDigest(), 0L);
  }
}
