package dev.inferno.daemon.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.docker.NetworkShapes.Net;
import dev.inferno.daemon.network.VmNetworks;
import dev.inferno.daemon.store.VmNetwork;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code docker network ls|inspect}, read-only: the two networks inferno has in Docker's terms (the
 * default one, named {@code bridge} as Docker names it, and {@code none}), their VMs from the
 * records and network rows container inspect reads. Everything that would change a network is
 * refused as dockerd refuses it on its pre-defined networks (403): inferno has no user-defined
 * networks, each VM has its own routed link. {@code /networks/prune} is {@link PruneRoutes}'.
 */
final class NetworkRoutes {
  /** dockerd's network list filters. */
  private static final Set<String> LIST_FILTERS =
      Set.of("dangling", "driver", "id", "label", "name", "scope", "type");

  /** The names dockerd reserves ({@code runconfig.IsPreDefinedNetwork}). */
  private static final Set<String> PREDEFINED = Set.of("bridge", "host", "none", "default");

  private final DockerContext ctx;

  /**
   * When the networks were made: at daemon start, as dockerd makes its default bridge anew at each
   * start (inferno keeps no network objects to date).
   */
  private final Instant created = Instant.now();

  NetworkRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of(
        new Route("GET", "/networks", this::list),
        new Route("POST", "/networks/create", this::create),
        new Route("GET", "/networks/{id}", this::inspect),
        new Route("DELETE", "/networks/{id}", this::remove),
        new Route("POST", "/networks/{id}/connect", this::connect),
        new Route("POST", "/networks/{id}/disconnect", this::disconnect));
  }

  /**
   * {@code GET /networks?filters}: both networks, filtered as dockerd filters. {@code Containers}
   * is filled for clients older than 1.28 only, as dockerd (newer ones inspect for it).
   */
  private void list(Exchange ex) throws Exception {
    DockerFilters f = DockerFilters.parse(ex.query("filters"), ctx.json(), LIST_FILTERS);
    for (String t : f.get("type")) {
      if (!t.equals("builtin") && !t.equals("custom")) {
        throw ApiException.badRequest("invalid filter 'type=" + t + "': builtin or custom");
      }
    }
    Boolean dangling = f.bool("dangling");
    boolean detailed = DockerApi.atMost(ex, "1.27");
    Map<Net, Map<VmRecord, VmNetwork>> members = members();
    String daemonId = ctx.daemonId();
    List<NetworkShapes.Resource> out =
        Net.ALL.stream()
            .filter(n -> f.admits("driver", d -> d.equals(n.driver())))
            .filter(n -> f.admits("name", v -> matches(v, n.name())))
            .filter(n -> f.admits("id", v -> matches(v, n.id(daemonId))))
            .filter(n -> f.labels(Map.of()))
            .filter(n -> f.admits("scope", s -> s.equals("local")))
            // every network here is pre-defined: builtin, never custom, never dangling
            .filter(n -> f.admits("type", t -> t.equals("builtin")))
            .filter(n -> dangling == null || !dangling)
            .map(n -> shape(n, daemonId, detailed ? members.get(n) : Map.of()))
            .toList();
    ex.send(200, out);
  }

  /** dockerd's {@code filters.Match}: the exact value, or a regular expression found in it. */
  private static boolean matches(String filter, String value) {
    if (filter.equals(value)) {
      return true;
    }
    try {
      return Pattern.compile(filter).matcher(value).find();
    } catch (PatternSyntaxException e) {
      return false;
    }
  }

  /** {@code GET /networks/{id}?verbose&scope}: by name, id or id prefix, with its VMs. */
  private void inspect(Exchange ex) throws Exception {
    String term = ex.path("id");
    String scope = ex.query("scope");
    Net n = network(term);
    if (scope != null && !scope.isEmpty() && !scope.equals("local")) {
      throw notFound(term); // dockerd: a local network is not found in the swarm scope
    }
    // verbose adds swarm services and peers only: there are none
    ex.send(200, shape(n, ctx.daemonId(), members().get(n)));
  }

  /**
   * {@code POST /networks/create}: a pre-defined name gets dockerd's refusal; any other name 403 as
   * well, since inferno has no user-defined networks.
   */
  private void create(Exchange ex) throws Exception {
    JsonNode body = ex.hasBody() ? ex.readJson(JsonNode.class) : ctx.json().createObjectNode();
    String name = body.path("Name").asText("");
    if (name.isEmpty()) {
      throw ApiException.badRequest("invalid network name: the body's Name is empty");
    }
    if (PREDEFINED.contains(name)) {
      throw forbidden("operation is not permitted on predefined " + name + " network"); // dockerd
    }
    throw forbidden(
        "cannot create network "
            + name
            + ": inferno has no user-defined networks (each VM has its own routed link, a TAP and a"
            + " /30; a container is on the default network, bridge, or on none)");
  }

  /** {@code DELETE /networks/{id}}: every network is pre-defined, so 403 as dockerd words it. */
  private void remove(Exchange ex) throws Exception {
    Net n = network(ex.path("id"));
    throw forbidden(n.name() + " is a pre-defined network and cannot be removed"); // dockerd
  }

  private void connect(Exchange ex) throws Exception {
    attachment(ex, "connected to");
  }

  private void disconnect(Exchange ex) throws Exception {
    attachment(ex, "disconnected from");
  }

  /**
   * Connect and disconnect: the container first, then the network (dockerd's order, each 404 in its
   * words), then 403: a VM's network is fixed when it is created.
   */
  private void attachment(Exchange ex, String verb) throws Exception {
    JsonNode body = ex.hasBody() ? ex.readJson(JsonNode.class) : ctx.json().createObjectNode();
    String container = body.path("Container").asText("");
    if (container.isEmpty()) {
      throw ApiException.badRequest("no container given: the body's Container names it");
    }
    VmRecord r = ctx.container(container);
    Net n = network(ex.path("id"));
    throw forbidden(
        "container "
            + r.name()
            + " cannot be "
            + verb
            + " network "
            + n.name()
            + ": inferno does not change a VM's network after it is created (each VM has its own"
            + " routed link; choose --network bridge or none at create)");
  }

  /**
   * The network a client names, as dockerd's {@code findUniqueNetwork}: the exact name, the exact
   * id, then a unique id prefix; 404 {@code network X not found}.
   */
  private Net network(String term) {
    String daemonId = ctx.daemonId();
    for (Net n : Net.ALL) {
      if (n.name().equals(term) || n.id(daemonId).equals(term)) {
        return n;
      }
    }
    List<Net> byPrefix =
        term.isEmpty()
            ? List.of()
            : Net.ALL.stream().filter(n -> n.id(daemonId).startsWith(term)).toList();
    if (byPrefix.size() > 1) {
      throw ApiException.badRequest(
          "network "
              + term
              + " is ambiguous ("
              + byPrefix.size()
              + " matches found based on ID prefix)");
    }
    if (byPrefix.isEmpty()) {
      throw notFound(term);
    }
    return byPrefix.getFirst();
  }

  private static ApiException notFound(String term) {
    return ApiException.notFound("network " + term + " not found"); // dockerd's words
  }

  private static ApiException forbidden(String message) {
    return new ApiException(403, message);
  }

  /**
   * Each network's running VMs with their network rows (none's have no row), from the VM records
   * and the {@code vm_networks} rows that container inspect reads: no second source.
   */
  private Map<Net, Map<VmRecord, VmNetwork>> members() {
    Map<String, VmNetwork> rows = new HashMap<>();
    for (VmNetwork n : ctx.vms().store().networks()) {
      rows.put(n.vmId(), n);
    }
    Map<Net, Map<VmRecord, VmNetwork>> out = new HashMap<>();
    Net.ALL.forEach(n -> out.put(n, new LinkedHashMap<>()));
    for (VmRecord r : ctx.vms().list(false)) {
      if (r.state().live()) {
        out.get(Net.of(r)).put(r, rows.get(r.id()));
      }
    }
    return out;
  }

  private NetworkShapes.Resource shape(Net n, String daemonId, Map<VmRecord, VmNetwork> members) {
    VmNetworks nets = ctx.vms().networks();
    NetworkShapes.Pool pool =
        nets == null
            ? null
            : new NetworkShapes.Pool(nets.settings().nft().pool(), nets.settings().mtu());
    return NetworkShapes.shape(n, n.id(daemonId), created, pool, members);
  }
}
