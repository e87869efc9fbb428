package dev.inferno.daemon.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.volume.VolumeService;
import dev.inferno.model.MountGrammar;
import dev.inferno.model.Volume;
import dev.inferno.model.VolumeCreateRequest;
import dev.inferno.model.units.Sizes;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code docker volume ls|create|inspect|rm}: a translation onto the inferno API's {@link
 * VolumeService} (the one owner of names, sizes and "in use"), answering in dockerd's shapes and
 * words. A volume is an ext4 disk image, so of the local driver's options only {@code size} maps.
 */
final class VolumeRoutes {
  private static final Set<String> LIST_FILTERS = Set.of("name", "label", "dangling", "driver");
  private static final Set<String> CREATE_FIELDS =
      Set.of("Name", "Driver", "DriverOpts", "Labels", "ClusterVolumeSpec");

  /** The label dockerd puts on a volume it named itself; {@code volume prune} keys on it. */
  static final String ANONYMOUS_LABEL = "com.docker.volume.anonymous";

  private final DockerContext ctx;

  VolumeRoutes(DockerContext ctx) {
    this.ctx = ctx;
  }

  List<Route> all() {
    return List.of(
        new Route("GET", "/volumes", this::list),
        new Route("POST", "/volumes/create", this::create),
        new Route("GET", "/volumes/{name}", this::inspect),
        new Route("DELETE", "/volumes/{name}", this::remove));
  }

  private VolumeService volumes() {
    VolumeService v = ctx.vms().volumes();
    if (v == null) {
      throw ApiException.notFound("this daemon serves no volumes");
    }
    return v;
  }

  /** {@code {"Volumes":[…],"Warnings":[]}} with dockerd's filters. */
  private void list(Exchange ex) throws Exception {
    DockerFilters f = DockerFilters.parse(ex.query("filters"), ctx.json(), LIST_FILTERS);
    Boolean dangling = f.bool("dangling");
    List<Map<String, Object>> out =
        volumes().list().stream()
            .filter(v -> f.admits("name", n -> nameMatches(n, v.name())))
            .filter(v -> f.admits("driver", d -> d.equals(v.driver())))
            .filter(v -> f.labels(labels(v)))
            .filter(v -> dangling == null || dangling == v.usedBy().isEmpty())
            .map(VolumeRoutes::shape)
            .toList();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("Volumes", out);
    body.put("Warnings", List.of());
    ex.send(200, body);
  }

  /** dockerd's {@code name} filter: the exact name, or a regular expression found in it. */
  private static boolean nameMatches(String filter, String name) {
    if (filter.equals(name)) {
      return true;
    }
    try {
      return Pattern.compile(filter).matcher(name).find();
    } catch (PatternSyntaxException e) {
      return false; // dockerd skips a value that is not a regular expression
    }
  }

  /**
   * {@code POST /volumes/create}: 201 with the volume; a named volume that exists is returned as it
   * is (dockerd's create is idempotent). Errors as dockerd words them, {@code create NAME: …}.
   */
  private void create(Exchange ex) throws Exception {
    JsonNode body = ex.hasBody() ? ex.readJson(JsonNode.class) : ctx.json().createObjectNode();
    if (!body.isObject()) {
      throw ApiException.badRequest("invalid volume create body: expected a JSON object");
    }
    for (var e : body.properties()) {
      if (!CREATE_FIELDS.contains(e.getKey()) && !ContainerCreate.isZero(e.getValue())) {
        throw ApiException.badRequest(
            e.getKey() + " is not supported: a volume takes Name, Driver, DriverOpts and Labels");
      }
    }
    if (!ContainerCreate.isZero(body.path("ClusterVolumeSpec"))) {
      // dockerd's answer off a swarm manager (inferno has no swarm)
      throw new ApiException(
          503,
          "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to"
              + " connect this node to swarm and try again.");
    }
    String name = text(body, "Name");
    String op = name.isEmpty() ? "create" : "create " + name;
    String driver = text(body, "Driver");
    if (!driver.isEmpty() && !driver.equals("local")) {
      // dockerd looks the driver up as a plugin; inferno has none
      throw ApiException.notFound(
          op
              + ": error looking up volume plugin "
              + driver
              + ": plugin \""
              + driver
              + "\" not found (inferno has the local driver only)");
    }
    if (!name.isEmpty() && MountGrammar.volumeNameProblem(name) != null) {
      throw ApiException.badRequest(
          op
              + ": "
              + (name.length() == 1
                  ? "volume name is too short, names should be at least two alphanumeric"
                      + " characters"
                  : "\""
                      + name
                      + "\" includes invalid characters for a local volume name, only"
                      + " \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a"
                      + " host directory, use absolute path"));
    }
    Long size = null;
    for (var e : stringMap(body, "DriverOpts", op).entrySet()) {
      if (!e.getKey().equals("size")) {
        throw ApiException.badRequest(
            op
                + ": invalid option: \""
                + e.getKey()
                + "\" (an inferno volume is an ext4 disk image for a VM: of the local driver's"
                + " options only size applies; type, device and o mount host filesystems)");
      }
      try {
        size = Sizes.parse(e.getValue());
      } catch (IllegalArgumentException bad) {
        throw ApiException.badRequest(op + ": " + bad.getMessage());
      }
    }
    Map<String, String> labels = stringMap(body, "Labels", op);
    Volume v;
    try {
      v =
          volumes()
              .create(
                  new VolumeCreateRequest(
                      name.isEmpty() ? null : name, size, labels.isEmpty() ? null : labels));
    } catch (ApiException e) {
      throw new ApiException(e.status(), op + ": " + e.getMessage(), e);
    }
    ex.send(201, shape(v));
  }

  /** {@code GET /volumes/{name}}: 404 {@code get NAME: no such volume}, as dockerd. */
  private void inspect(Exchange ex) throws Exception {
    String name = ex.path("name");
    Volume v =
        volumes().list().stream()
            .filter(x -> x.name().equals(name))
            .findFirst()
            .orElseThrow(() -> noSuchVolume(name));
    ex.send(200, shape(v));
  }

  /**
   * {@code DELETE /volumes/{name}?force}: 204; 404 {@code get NAME: no such volume} (204 with
   * force); 409 {@code remove NAME: volume is in use - [IDS]} while any container mounts it.
   */
  private void remove(Exchange ex) throws Exception {
    String name = ex.path("name");
    boolean force = ex.flag("force");
    VolumeService volumes = volumes();
    try {
      volumes.remove(name, force);
    } catch (ApiException e) {
      if (e.status() == 404) {
        throw noSuchVolume(name);
      }
      if (e.status() == 409) {
        List<String> by =
            volumes.list().stream()
                .filter(x -> x.name().equals(name))
                .findFirst()
                .map(Volume::usedBy)
                .orElse(List.of());
        throw ApiException.conflict(
            "remove " + name + ": volume is in use - [" + String.join(", ", by) + "]");
      }
      throw e;
    }
    ex.sendEmpty(204);
  }

  private static ApiException noSuchVolume(String name) {
    return ApiException.notFound("get " + name + ": no such volume");
  }

  /**
   * Docker's Volume. {@code Mountpoint} is the volume's ext4 image file (a VM mounts a disk, not a
   * directory); {@code Options} holds {@code size}, the one option an inferno volume has.
   */
  static Map<String, Object> shape(Volume v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("CreatedAt", v.createdAt().truncatedTo(ChronoUnit.SECONDS).toString());
    m.put("Driver", v.driver());
    m.put("Labels", labels(v));
    m.put("Mountpoint", v.mountpoint());
    m.put("Name", v.name());
    m.put("Options", Map.of("size", Long.toString(v.sizeBytes())));
    m.put("Scope", "local");
    return m;
  }

  /** A volume's labels as dockerd shows them: an anonymous one carries {@link #ANONYMOUS_LABEL}. */
  static Map<String, String> labels(Volume v) {
    if (!v.anonymous()) {
      return v.labels();
    }
    Map<String, String> l = new TreeMap<>(v.labels());
    l.put(ANONYMOUS_LABEL, "");
    return l;
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.path(field);
    if (n.isMissingNode() || n.isNull()) {
      return "";
    }
    if (!n.isTextual()) {
      throw ApiException.badRequest(field + " must be a string, not " + n);
    }
    return n.asText();
  }

  private static Map<String, String> stringMap(JsonNode body, String field, String op) {
    JsonNode n = body.path(field);
    Map<String, String> out = new LinkedHashMap<>();
    if (n.isMissingNode() || n.isNull()) {
      return out;
    }
    if (!n.isObject()) {
      throw ApiException.badRequest(op + ": " + field + " must be an object of strings, not " + n);
    }
    for (var e : n.properties()) {
      if (!e.getValue().isTextual()) {
        throw ApiException.badRequest(
            op + ": " + field + "." + e.getKey() + " must be a string, not " + e.getValue());
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }
}
