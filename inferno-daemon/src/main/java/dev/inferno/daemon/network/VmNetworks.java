package dev.inferno.daemon.network;

import dev.inferno.daemon.store.VmNetwork;
import dev.inferno.daemon.store.VmStore;
import dev.inferno.model.PublishedPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The host side of every VM's network, wired from the building blocks of this package: a /30 from
 * the pool (the database's {@code vm_networks} rows say what is taken), a TAP, the published ports
 * (a {@link PortProxy} each, bound first, plus DNAT elements in the daemon's nftables table), and
 * their release. Each step that fails undoes the ones before it, so a refused VM leaves nothing.
 *
 * <p>Lifetime, as Docker: published ports (proxies, DNAT elements) and the TAP go when the VM
 * stops; the address stays allocated until the VM is removed. {@link #restore} brings the host in
 * line with the database at daemon start.
 */
public final class VmNetworks implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(VmNetworks.class.getName());

  /**
   * What the host side is made of.
   *
   * @param nft the table (its name, the pool, the TAP name prefix)
   * @param mtu the links' MTU
   */
  public record Settings(Nftables.Config nft, int mtu) {
    public static Settings of(Nftables.Config nft) {
      return new Settings(nft, TapDevices.DEFAULT_MTU);
    }
  }

  private final VmStore store;
  private final Settings settings;
  private final AddressPool pool;
  private final Nftables nft;
  // allocation reads the taken /30s and then records one: one VM at a time
  private final ReentrantLock lock = new ReentrantLock();
  private final Map<String, List<PortProxy>> proxies = new ConcurrentHashMap<>();

  public VmNetworks(VmStore store, Settings settings) {
    this.store = store;
    this.settings = settings;
    this.pool = new AddressPool(settings.nft().pool());
    this.nft = new Nftables(settings.nft());
  }

  public Settings settings() {
    return settings;
  }

  /**
   * Whether a device is one this daemon names (prefix + hex digits of a VM id): only those are its
   * to remove. Other tools' devices that merely share the prefix are left alone.
   */
  boolean ours(String device) {
    String prefix = settings.nft().devicePrefix();
    if (device.length() != 15 || !device.startsWith(prefix)) {
      return false;
    }
    for (int i = prefix.length(); i < device.length(); i++) {
      char c = device.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  /** The TAP a VM gets. */
  public String deviceFor(String vmId) {
    return TapDevices.nameFor(settings.nft().devicePrefix(), vmId);
  }

  /**
   * Refuses a pool that overlaps a network the host routes (other than through our own TAPs): the
   * VMs' addresses would shadow it.
   *
   * @throws IllegalStateException naming each conflict and what to do
   */
  public void checkPool() throws IOException {
    List<String> problems = pool.conflicts(HostRoutes.read(), this::ours);
    if (!problems.isEmpty()) {
      throw new IllegalStateException(String.join("\n", problems));
    }
  }

  /**
   * Gives a VM its network: an address (the one it had, when it boots again), a TAP, its published
   * ports. Ports are bound first (a port in use fails before anything else exists); on any failure
   * what was made is undone.
   *
   * @param ports the ports to publish; a host port 0 is picked by the kernel
   * @param uid owner of the TAP (the uid the VMM opens it as)
   * @param gid its group
   * @return the allocation as recorded, with the bound host ports
   * @throws PortInUseException a host port is taken
   * @throws AddressPool.PoolExhaustedException no address is left
   * @throws IOException a bind, the TAP or the firewall failed (the message says which)
   */
  public VmNetwork attach(String vmId, List<PortSpec> ports, int uid, int gid) throws IOException {
    String device = deviceFor(vmId);
    lock.lock();
    try {
      // a VM booted again (a restart, `start`) keeps the address it was given: release kept it
      VmNetwork earlier = store.network(vmId).orElse(null);
      Ipv4Cidr slot;
      if (earlier != null) {
        slot = Ipv4Cidr.parse(earlier.subnet());
      } else {
        Set<Ipv4Cidr> taken = new HashSet<>();
        for (VmNetwork n : store.networks()) {
          taken.add(Ipv4Cidr.parse(n.subnet()));
        }
        slot = pool.allocate(taken);
      }
      int guest = AddressPool.guestAddress(slot);
      List<PortProxy> open = new ArrayList<>();
      boolean tap = false;
      List<Nftables.Mapping> mappings = new ArrayList<>();
      try {
        for (PortSpec p : ports) {
          open.add(PortProxy.open(p, target(guest, p.guestPort())));
        }
        List<PublishedPort> bound = new ArrayList<>();
        for (PortProxy p : open) {
          mappings.add(new Nftables.Mapping(p.bound(), guest));
          bound.add(p.bound().toModel());
        }
        TapDevices.create(new TapDevices.Tap(device, slot, settings.mtu(), uid, gid));
        tap = true;
        nft.add(device, mappings);
        VmNetwork row =
            new VmNetwork(
                vmId, device, slot.toString(), MacAddresses.forVm(vmId), settings.mtu(), bound);
        if (earlier != null) {
          store.updatePorts(vmId, bound);
        } else if (!store.insertNetwork(row)) {
          throw new IOException(
              "the network of VM " + vmId + " is already recorded (device " + device + ")");
        }
        proxies.put(vmId, open);
        return row;
      } catch (IOException | RuntimeException e) {
        undo(e, open, tap ? device : null, mappings);
        throw e;
      }
    } finally {
      lock.unlock();
    }
  }

  private void undo(
      Exception failure, List<PortProxy> open, String device, List<Nftables.Mapping> mappings) {
    for (PortProxy p : open) {
      p.close();
    }
    try {
      if (device != null) {
        nft.remove(device, mappings);
        TapDevices.delete(device);
      }
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  private static InetSocketAddress target(int guest, int port) {
    try {
      return new InetSocketAddress(
          InetAddress.getByAddress(
              new byte[] {
                (byte) (guest >>> 24), (byte) (guest >>> 16), (byte) (guest >>> 8), (byte) guest
              }),
          port);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException("four bytes are always an address", e);
    }
  }

  /**
   * A stopped VM's ports and TAP go (Docker releases published ports when a container stops); its
   * address stays recorded until the VM is removed. Releasing twice is harmless. Failures are
   * logged, never thrown: a VM's exit must be recorded whatever the host says.
   */
  public void release(String vmId) {
    List<PortProxy> open = proxies.remove(vmId);
    if (open != null) {
      open.forEach(PortProxy::close);
    }
    VmNetwork n;
    try {
      n = store.network(vmId).orElse(null);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "cannot read the network of VM " + vmId, e);
      return;
    }
    if (n == null) {
      return;
    }
    int guest = AddressPool.guestAddress(Ipv4Cidr.parse(n.subnet()));
    try {
      nft.remove(n.device(), mappings(n, guest));
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.WARNING, "cannot remove the published ports of VM " + vmId, e);
    }
    try {
      TapDevices.delete(n.device());
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.WARNING, "cannot remove the network device " + n.device(), e);
    }
    if (!n.ports().isEmpty()) {
      store.updatePorts(n.vmId(), List.of());
    }
  }

  private static List<Nftables.Mapping> mappings(VmNetwork n, int guest) {
    List<Nftables.Mapping> out = new ArrayList<>();
    for (PublishedPort p : n.ports()) {
      out.add(new Nftables.Mapping(PortSpec.fromModel(p), guest));
    }
    return out;
  }

  /**
   * Daemon start: IPv4 forwarding on, the table rebuilt from the database in one transaction (the
   * running VMs' published ports), their proxies bound again, the TAPs and rows of VMs that are
   * gone removed, and the ports of stopped VMs released.
   *
   * @param vmIds every VM the database holds
   * @param running those whose VMM runs (re-adopted)
   * @return lines for the daemon's log
   */
  public List<String> restore(Set<String> vmIds, Set<String> running) throws IOException {
    List<String> report = new ArrayList<>();
    if (IpForwarding.enable()) {
      report.add("set net.ipv4.ip_forward = 1 so VMs can reach the network");
    }
    List<Nftables.Mapping> all = new ArrayList<>();
    Set<String> keep = new HashSet<>();
    List<VmNetwork> live = new ArrayList<>();
    for (VmNetwork n : store.networks()) {
      if (!vmIds.contains(n.vmId())) {
        store.deleteNetwork(n.vmId());
        report.add("released the address of removed VM " + n.vmId());
      } else if (running.contains(n.vmId())) {
        all.addAll(mappings(n, AddressPool.guestAddress(Ipv4Cidr.parse(n.subnet()))));
        keep.add(n.device());
        live.add(n);
      } else if (!n.ports().isEmpty()) {
        store.updatePorts(n.vmId(), List.of());
      }
    }
    nft.rebuild(keep, all);
    forwardPolicyWarning().ifPresent(report::add);
    for (String tap : TapDevices.list(settings.nft().devicePrefix())) {
      if (ours(tap) && !keep.contains(tap)) {
        TapDevices.delete(tap);
        report.add("removed network device " + tap + ": no running VM owns it");
      }
    }
    for (VmNetwork n : live) {
      int guest = AddressPool.guestAddress(Ipv4Cidr.parse(n.subnet()));
      List<PortProxy> open = new ArrayList<>();
      for (PublishedPort p : n.ports()) {
        try {
          open.add(PortProxy.open(PortSpec.fromModel(p), target(guest, p.port())));
        } catch (IOException e) {
          report.add("VM " + n.vmId() + ": cannot publish " + p + " again: " + e.getMessage());
        }
      }
      proxies.put(n.vmId(), open);
      if (!open.isEmpty()) {
        report.add("VM " + n.vmId() + ": published " + open.size() + " port(s) again");
      }
    }
    return report;
  }

  /**
   * Docker sets iptables' {@code filter FORWARD} policy to DROP; a packet must pass every base
   * chain on the hook, so VMs' forwarded traffic dies there unless the admin allows it. Said at
   * start, since the daemon never edits another table.
   */
  static Optional<String> forwardPolicyWarning() {
    String chain;
    try {
      chain = Commands.run(List.of("nft", "list", "chain", "ip", "filter", "FORWARD"), "");
    } catch (IOException e) {
      return Optional.empty(); // no such chain: nothing else filters forwarding
    }
    if (!chain.contains("policy drop")) {
      return Optional.empty();
    }
    return Optional.of(
        "WARNING: the ip filter FORWARD chain (Docker's) drops by default, so VMs cannot reach the"
            + " network; allow them, e.g. iptables -I DOCKER-USER -i inf+ -j ACCEPT and iptables"
            + " -I DOCKER-USER -o inf+ -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT");
  }

  /** The daemon stops: its proxies close (VMs keep running; the next start binds them again). */
  @Override
  public void close() {
    // each close waits until its port is really free: all at once, not one after another
    List<Thread> closing = new ArrayList<>();
    for (String id : List.copyOf(proxies.keySet())) {
      List<PortProxy> open = proxies.remove(id);
      if (open != null) {
        for (PortProxy p : open) {
          closing.add(Thread.ofVirtual().start(p::close));
        }
      }
    }
    for (Thread t : closing) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
