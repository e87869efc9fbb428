package dev.inferno.daemon.docker;

import dev.inferno.daemon.network.Ipv4Cidr;
import dev.inferno.daemon.store.VmNetwork;
import dev.inferno.daemon.store.VmRecord;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The networks inferno has, in Docker's terms, and Docker's NetworkResource for them. inferno has
 * no user-defined networks: every VM is either on the default network (its own TAP and /30 from the
 * pool, routed, no bridge; docs/networking.md) or on {@code none}. Both are pre-defined, as
 * dockerd's {@code bridge} and {@code none} are.
 */
final class NetworkShapes {
  private NetworkShapes() {}

  /**
   * A pre-defined network.
   *
   * @param name its name, as {@code --network} takes it
   * @param driver Docker's driver name: {@code bridge} for the default network, since clients look
   *     for that driver and that name to find the default one (it is not a Linux bridge: see
   *     docs/docker-api.md), {@code null} for none, as dockerd
   * @param addressed whether its VMs have addresses (and the network a subnet)
   */
  record Net(String name, String driver, boolean addressed) {
    static final Net BRIDGE = new Net(ContainerShapes.NETWORK, "bridge", true);
    static final Net NONE = new Net("none", "null", false);
    static final List<Net> ALL = List.of(BRIDGE, NONE);

    /** The network a VM's request names ({@code --network}, {@code HostConfig.NetworkMode}). */
    static Net of(VmRecord r) {
      return ContainerShapes.networkMode(r.request()).equals("none") ? NONE : BRIDGE;
    }

    /**
     * A stable 64-hex id (dockerd's are random), the same for one daemon across restarts and
     * different between daemons: sha256 of the daemon's id and the network's name.
     */
    String id(String daemonId) {
      try {
        byte[] h =
            MessageDigest.getInstance("SHA-256")
                .digest(
                    ("inferno-network\0" + daemonId + "\0" + name)
                        .getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(h);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e); // every JRE has SHA-256
      }
    }
  }

  /** What the default network's shape needs of the daemon's network settings (null: none). */
  record Pool(Ipv4Cidr subnet, int mtu) {}

  record IpamConfig(String Subnet) {}

  record Ipam(String Driver, Map<String, String> Options, List<IpamConfig> Config) {}

  record ConfigFrom(String Network) {}

  record EndpointResource(
      String Name, String EndpointID, String MacAddress, String IPv4Address, String IPv6Address) {}

  record Resource(
      String Name,
      String Id,
      String Created,
      String Scope,
      String Driver,
      boolean EnableIPv6,
      Ipam IPAM,
      boolean Internal,
      boolean Attachable,
      boolean Ingress,
      ConfigFrom ConfigFrom,
      boolean ConfigOnly,
      Map<String, EndpointResource> Containers,
      Map<String, String> Options,
      Map<String, String> Labels) {}

  /**
   * Docker's NetworkResource. {@code IPAM.Config} holds the pool as the subnet and no {@code
   * Gateway}: each VM's gateway is the .1 of its own /30, so there is no one address to give
   * (docs/docker-api.md, Networks). {@code members}: each running VM on it with its network row.
   */
  static Resource shape(
      Net net, String id, Instant created, Pool pool, Map<VmRecord, VmNetwork> members) {
    Map<String, EndpointResource> containers = new LinkedHashMap<>();
    members.forEach((r, n) -> containers.put(r.id(), endpoint(r, n, id)));
    Map<String, String> options = new LinkedHashMap<>();
    List<IpamConfig> config = List.of();
    if (net.addressed()) {
      // dockerd's bridge options, as far as they are true of inferno's default network
      options.put("com.docker.network.bridge.default_bridge", "true");
      options.put("com.docker.network.bridge.enable_icc", "false"); // VM→VM is dropped
      options.put("com.docker.network.bridge.enable_ip_masquerade", "true");
      options.put("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0");
      if (pool != null) {
        options.put("com.docker.network.driver.mtu", Integer.toString(pool.mtu()));
        config = List.of(new IpamConfig(pool.subnet().toString()));
      }
    }
    return new Resource(
        net.name(),
        id,
        DockerTime.format(created),
        "local",
        net.driver(),
        false,
        new Ipam("default", null, config),
        false,
        false,
        false,
        new ConfigFrom(""),
        false,
        containers,
        options,
        Map.of());
  }

  /**
   * A VM's endpoint: on the default network the one its container inspect shows ({@link
   * ContainerShapes#endpoint}), the address as {@code a.b.c.d/30}; on none, no addresses.
   */
  private static EndpointResource endpoint(VmRecord r, VmNetwork n, String networkId) {
    ContainerShapes.Endpoint ep = n == null ? null : ContainerShapes.endpoint(r, n, networkId);
    if (ep == null) {
      return new EndpointResource(r.name(), "", "", "", "");
    }
    return new EndpointResource(
        r.name(), ep.EndpointID(), ep.MacAddress(), ep.IPAddress() + "/" + ep.IPPrefixLen(), "");
  }
}
