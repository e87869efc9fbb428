package dev.inferno.daemon.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.VmNames;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.model.UpdateRequest;
import dev.inferno.model.VmState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Docker's pause, unpause, rename and update (docs/docker-api.md, "Pause, unpause, rename,
 * update"): translations onto {@link VmService#pause}, {@link VmService#unpause}, {@link
 * VmService#rename} and {@link VmService#update}, which own the rules; this class only words their
 * refusals as dockerd (25.0) does, since scripts match on them.
 */
final class ContainerOpsRoutes {
  private final DockerContext ctx;
  private final VmService vms;

  ContainerOpsRoutes(DockerContext ctx) {
    this.ctx = ctx;
    this.vms = ctx.vms();
  }

  List<Route> all() {
    return List.of(
        new Route("POST", "/containers/{id}/pause", this::pause),
        new Route("POST", "/containers/{id}/unpause", this::unpause),
        new Route("POST", "/containers/{id}/rename", this::rename),
        new Route("POST", "/containers/{id}/update", this::update));
  }

  /** dockerd's refusal when a name is taken (create and rename both word it so). */
  static String nameInUse(String name, String id) {
    return "Conflict. The container name \"/"
        + name
        + "\" is already in use by container \""
        + id
        + "\". You have to remove (or rename) that container to be able to reuse that name.";
  }

  private void pause(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    refuse(r, true);
    try {
      vms.pause(r.id());
    } catch (ApiException e) {
      // the state changed since the check above (an exit, a concurrent pause): word it as dockerd
      throw e.status() == 409 ? reworded(r.id(), true, e) : e;
    }
    ex.sendEmpty(204);
  }

  private void unpause(Exchange ex) throws Exception {
    VmRecord r = ctx.container(ex.path("id"));
    refuse(r, false);
    try {
      vms.unpause(r.id());
    } catch (ApiException e) {
      throw e.status() == 409 ? reworded(r.id(), false, e) : e;
    }
    ex.sendEmpty(204);
  }

  /**
   * dockerd's refusals of pause and unpause for the VM's state. An unpause of a VM that is not
   * paused is 409 here; dockerd answers it 500 (a plain error), which no client tells apart.
   */
  private static void refuse(VmRecord r, boolean pause) {
    VmState s = r.state();
    if (pause) {
      if (s == VmState.RESTARTING) {
        throw ApiException.conflict(
            "Container " + r.id() + " is restarting, wait until the container is running");
      }
      if (!s.live()) {
        throw ApiException.conflict("container " + r.id() + " is not running");
      }
      if (s == VmState.PAUSED) {
        throw ApiException.conflict("Container " + r.id() + " is already paused");
      }
    } else if (s != VmState.PAUSED) {
      throw ApiException.conflict("Container " + r.id() + " is not paused");
    }
  }

  /** The refusal for the VM's state now, or VmService's own (e.g. a VMM that cannot pause). */
  private ApiException reworded(String id, boolean pause, ApiException original) {
    try {
      refuse(ctx.container(id), pause);
    } catch (ApiException e) {
      return e;
    }
    return original;
  }

  /**
   * The body ({@link ContainerCreate#translateUpdate}: what may change, the rest refused) onto
   * {@link VmService#update}; 200 {@code {"Warnings":[…]}}. A restart policy for an AutoRemove
   * container is dockerd's 409.
   */
  private void update(Exchange ex) throws Exception {
    UpdateRequest u = ContainerCreate.translateUpdate(ex.readJson(JsonNode.class));
    VmRecord r = ctx.container(ex.path("id"));
    VmService.Updated done;
    try {
      done = vms.update(r.id(), u);
    } catch (ApiException e) {
      if (e.status() == 409 && r.autoRemove()) {
        throw ApiException.conflict(
            "Cannot update container "
                + r.id()
                + ": Restart policy cannot be updated because AutoRemove is enabled for the"
                + " container");
      }
      throw e;
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("Warnings", done.warnings());
    ex.send(200, body);
  }

  /**
   * {@code ?name=NEW}, checked in dockerd's order: both names given, the container exists, the name
   * differs, it is valid, it is free.
   */
  private void rename(Exchange ex) throws Exception {
    String given = ex.query("name") == null ? "" : ex.query("name").strip();
    String newName = given.startsWith("/") ? given.substring(1) : given;
    if (newName.isEmpty()) {
      throw ApiException.badRequest("Neither old nor new names may be empty");
    }
    VmRecord r = ctx.container(ex.path("id"));
    if (r.name().equals(newName)) {
      throw ApiException.badRequest("Renaming a container with the same name as its current name");
    }
    if (!VmNames.wellFormed(newName)) { // dockerd's pattern; VmService adds inferno's length cap
      throw ApiException.badRequest(
          "Error when allocating new name: Invalid container name (/"
              + newName
              + "), only "
              + VmNames.CHARS
              + " are allowed");
    }
    try {
      vms.rename(r.id(), newName);
    } catch (ApiException e) {
      var owner = vms.store().byName(newName).orElse(null);
      if (e.status() == 409 && owner != null && !owner.id().equals(r.id())) {
        throw ApiException.conflict(
            "Error when allocating new name: " + nameInUse(newName, owner.id()));
      }
      throw e; // e.g. longer than inferno allows: VmService's words
    }
    ex.sendEmpty(204);
  }
}
