package dev.inferno.daemon.network;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Hands out one /30 per VM from the configured pool (network-pool, default 172.30.0.0/16): .1 is
 * the host side of the VM's TAP and its gateway, .2 the guest's eth0. Pure: the caller says which
 * /30s are taken (the database is the record), this picks the lowest free one.
 */
public final class AddressPool {
  public static final String DEFAULT = "172.30.0.0/16";
  public static final int SLOT_PREFIX = 30;

  private final Ipv4Cidr pool;

  public AddressPool(Ipv4Cidr pool) {
    if (pool.prefix() > SLOT_PREFIX) {
      throw new IllegalArgumentException(
          "network-pool "
              + pool
              + " is smaller than one VM's /30: use a prefix of /30 or shorter, e.g. "
              + DEFAULT);
    }
    this.pool = pool;
  }

  public Ipv4Cidr pool() {
    return pool;
  }

  /** How many VMs the pool can address. */
  public long capacity() {
    return pool.size() / 4;
  }

  /** The lowest free /30, or a {@link PoolExhaustedException} when every one is in use. */
  public Ipv4Cidr allocate(Set<Ipv4Cidr> inUse) {
    for (long i = 0; i < capacity(); i++) {
      Ipv4Cidr slot = new Ipv4Cidr(pool.at(i * 4), SLOT_PREFIX);
      if (!inUse.contains(slot)) {
        return slot;
      }
    }
    throw new PoolExhaustedException(
        "the network pool "
            + pool
            + " is exhausted: all "
            + capacity()
            + " VM addresses are in use; remove stopped VMs (inferno rm) or configure a larger"
            + " network-pool");
  }

  /** The host side of a VM's /30: its TAP's address and the guest's gateway. */
  public static int hostAddress(Ipv4Cidr slot) {
    return slot.at(1);
  }

  /** The guest's eth0 address in its /30. */
  public static int guestAddress(Ipv4Cidr slot) {
    return slot.at(2);
  }

  /**
   * Problems with using this pool next to the host's routes (empty when none): a pool that overlaps
   * a route the host already has would hijack or shadow that network. The default route and routes
   * of the daemon's own TAPs (ours) are not conflicts.
   */
  public List<String> conflicts(List<HostRoutes.Route> routes, Predicate<String> ownDevice) {
    List<String> problems = new ArrayList<>();
    for (HostRoutes.Route r : routes) {
      if (r.destination().prefix() == 0 || ownDevice.test(r.device())) {
        continue;
      }
      if (r.destination().overlaps(pool)) {
        problems.add(
            "network-pool "
                + pool
                + " overlaps the host's route to "
                + r.destination()
                + " on "
                + r.device()
                + ": choose a network-pool that no host network uses, e.g. 10.213.0.0/16");
      }
    }
    return problems;
  }

  /** The pool's addresses are all taken. */
  public static final class PoolExhaustedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    PoolExhaustedException(String message) {
      super(message);
    }
  }
}
