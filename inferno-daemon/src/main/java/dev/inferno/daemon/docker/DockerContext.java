package dev.inferno.daemon.docker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.daemon.api.Routes;
import dev.inferno.daemon.exec.ExecService;
import dev.inferno.daemon.images.ImageOps;
import dev.inferno.daemon.stats.StatsService;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.model.Health;
import java.util.function.Function;

/**
 * The services the Docker API translates onto: the very instances the inferno API uses (one exec
 * table, one event bus, one image store), so both sockets see the same VMs, execs and images.
 *
 * @param vms the VMs: run semantics, life cycle, logs, events
 * @param images pulls, image list, inspect, remove
 * @param execs exec sessions (shared with the inferno API's routes and health checks)
 * @param facts what version and info report
 * @param health a VM's health by id, or null when it has no check
 * @param stats readings of a running VM (the inferno API's {@code stats} source)
 * @param json the Docker API's mapper ({@link DockerJson})
 */
public record DockerContext(
    VmService vms,
    ImageOps images,
    ExecService execs,
    Routes.SystemFacts facts,
    Function<String, Health> health,
    StatsService stats,
    ObjectMapper json) {

  /**
   * The VM a Docker client names (id, unique id prefix, name, or {@code /name} as Docker prints
   * names): 404 "No such container: REF" as dockerd words it (scripts match on it).
   */
  public VmRecord container(String ref) {
    String r = ref.startsWith("/") ? ref.substring(1) : ref;
    try {
      return vms.resolve(r);
    } catch (ApiException e) {
      if (e.status() == 404) {
        throw ApiException.notFound("No such container: " + ref);
      }
      throw e;
    }
  }

  /**
   * The engine's ID as info reports it, stable for one state dir: Docker clients treat it as the
   * engine's identity, and the network ids are derived from it.
   */
  public String daemonId() {
    return java.util
        .UUID
        .nameUUIDFromBytes(facts.stateDir().getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .toString();
  }
}
