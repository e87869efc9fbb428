package dev.inferno.kiln.vm;

import dev.inferno.kiln.protocol.RunConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Which guest block device each disk of a VM becomes: the one owner of that rule. Both VMMs attach
 * the disks as virtio-blk in this order (the image, the writable disk when there is one, then the
 * drives in the spec's order) and the guest kernel names them in probe order: /dev/vda, /dev/vdb …
 * The run config init reads is made here from the spec, so the devices named in {@code root} and
 * {@code mounts} are the ones attached.
 *
 * @param image the image's device, or null without an image disk
 * @param writable the writable disk's device, or null without one
 * @param drives the device of each of the spec's drives, in order
 */
public record GuestDevices(String image, String writable, List<String> drives) {

  /**
   * The most drives a VM takes: Firecracker has 19 device interrupts (5 to 23) and the image, the
   * writable disk, vsock and the network device use 4; QEMU's microvm has 24 virtio-mmio slots.
   */
  public static final int MAX_DRIVES = 15;

  public GuestDevices {
    drives = List.copyOf(drives);
  }

  public static GuestDevices of(VmSpec spec) {
    int next = 0;
    String image = spec.imageDisk() == null ? null : name(next++);
    String writable = spec.hasWritableDisk() ? name(next++) : null;
    List<String> drives = new ArrayList<>();
    for (int i = 0; i < spec.drives().size(); i++) {
      drives.add(name(next++));
    }
    return new GuestDevices(image, writable, drives);
  }

  /**
   * The run config init gets: the caller's, with {@code root} naming the attached devices and
   * read-only-ness, and {@code mounts} = the caller's mounts, then a volume per drive, then the
   * tmpfs mounts.
   */
  public static RunConfig runConfig(VmSpec spec) {
    GuestDevices d = of(spec);
    RunConfig c = spec.runConfig();
    String image = d.image() != null ? d.image() : c.root().imageDevice();
    List<RunConfig.Mount> mounts = new ArrayList<>(c.mounts());
    for (int i = 0; i < spec.drives().size(); i++) {
      Drive drive = spec.drives().get(i);
      mounts.add(new RunConfig.Mount.Volume(d.drives().get(i), drive.target(), drive.readOnly()));
    }
    spec.tmpfs().forEach(t -> mounts.add(t.toRunConfig()));
    return c.toBuilder()
        .root(new RunConfig.Root(image, d.writable(), spec.readOnlyRoot()))
        .mounts(mounts)
        .build();
  }

  /** Linux's virtio_blk name of the n-th disk: vda … vdz, vdaa … (virtblk_name_format). */
  static String name(int index) {
    StringBuilder s = new StringBuilder();
    int i = index;
    do {
      s.insert(0, (char) ('a' + i % 26));
      i = i / 26 - 1;
    } while (i >= 0);
    return "/dev/vd" + s;
  }
}
