package dev.inferno.kiln.firecracker;

import dev.inferno.kiln.vm.VmmException;
import java.util.HashMap;
import java.util.Map;

/**
 * Hands out one unprivileged uid (and the same number as gid) per VM from a configured range, so no
 * two jailed VMMs share an identity. Re-adopted VMs claim their recorded uid again.
 */
public final class UidRange {
  private final int first;
  private final int count;
  private final Map<Integer, String> taken = new HashMap<>();

  public UidRange(int first, int count) {
    if (first < 1000 || count < 1) {
      throw new IllegalArgumentException(
          "uid range must start at 1000 or above and hold at least one id");
    }
    this.first = first;
    this.count = count;
  }

  public synchronized int allocate(String vmId) throws VmmException {
    for (Map.Entry<Integer, String> e : taken.entrySet()) {
      if (e.getValue().equals(vmId)) {
        return e.getKey();
      }
    }
    for (int uid = first; uid < first + count; uid++) {
      if (!taken.containsKey(uid)) {
        taken.put(uid, vmId);
        return uid;
      }
    }
    throw new VmmException(
        "all " + count + " VM uids from " + first + " are in use: widen uid_range in the config");
  }

  /** Marks a uid as used by a VM found running after a restart. */
  public synchronized void claim(int uid, String vmId) {
    taken.put(uid, vmId);
  }

  public synchronized void release(String vmId) {
    taken.values().removeIf(vmId::equals);
  }
}
