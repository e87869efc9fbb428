package dev.inferno.daemon.docker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.model.HealthConfig;
import dev.inferno.model.Mount;
import dev.inferno.model.MountGrammar;
import dev.inferno.model.RunRequest;
import dev.inferno.model.UpdateRequest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Docker's container create body (Config + HostConfig + NetworkingConfig, read as a tree) to the
 * inferno {@link RunRequest}: the one place that knows which of Docker's fields mean something for
 * a microVM. Every other field, known to Docker or not, is accepted at its zero value only (clients
 * send whole structs) and refused otherwise with a 400 naming it: never a silent ignore.
 */
final class ContainerCreate {
  /** Config fields translated (the rest must be zero). */
  private static final Set<String> CONFIG =
      Set.of(
          "Hostname",
          "User",
          "AttachStdin",
          "AttachStdout",
          "AttachStderr",
          "ExposedPorts",
          "Tty",
          "OpenStdin",
          "StdinOnce",
          "Env",
          "Cmd",
          "Healthcheck",
          "Image",
          "Volumes",
          "WorkingDir",
          "Entrypoint",
          "Labels",
          "StopSignal",
          "StopTimeout",
          "HostConfig",
          "NetworkingConfig");

  /** HostConfig fields translated (the rest must be zero). */
  private static final Set<String> HOST =
      Set.of(
          "PortBindings",
          "PublishAllPorts",
          "AutoRemove",
          "RestartPolicy",
          "Binds",
          "Mounts",
          "Tmpfs",
          "ReadonlyRootfs",
          "Memory",
          "NanoCpus",
          "ConsoleSize",
          "NetworkMode",
          "Dns",
          "DnsSearch",
          "ExtraHosts");

  /** Update body fields translated (Docker's UpdateConfig: Resources inline, RestartPolicy). */
  private static final Set<String> UPDATE = Set.of("Memory", "NanoCpus", "RestartPolicy");

  /**
   * Fields whose "not set" is not Go's zero, as the docker CLI sends them (captured from Debian's
   * 20.10 and docker 28): accepted like a zero.
   */
  private static final Map<String, JsonNode> UNSET =
      Map.of(
          "HostConfig.MemorySwappiness",
          com.fasterxml.jackson.databind.node.IntNode.valueOf(-1),
          "MemorySwappiness",
          com.fasterxml.jackson.databind.node.IntNode.valueOf(-1));

  /** Why the common refusals cannot work in a VM (docs/docker-api.md's table). */
  private static final Map<String, String> WHY =
      Map.of(
          "HostConfig.Privileged",
          "a microVM has its own kernel and no host devices to grant",
          "HostConfig.CapAdd",
          "the workload is root in its own VM; there are no host capabilities to add",
          "HostConfig.Devices",
          "a microVM sees no host devices",
          "HostConfig.PidMode",
          "a microVM cannot share the host's or another VM's processes",
          "HostConfig.IpcMode",
          "a microVM cannot share the host's or another VM's IPC",
          "HostConfig.VolumesFrom",
          "volumes are disks attached to one VM: name the volume with -v NAME:/path instead",
          "HostConfig.Links",
          "links are a legacy bridge feature: publish ports or use the VM's address");

  private ContainerCreate() {}

  /** The request for {@code body} with the container named {@code name} (null: generated). */
  static RunRequest translate(JsonNode body, String name) {
    if (body == null || !body.isObject()) {
      throw ApiException.badRequest("malformed JSON in the request body: expected an object");
    }
    refuseOthers(body, "", CONFIG);
    JsonNode host = body.path("HostConfig");
    if (!host.isMissingNode() && !host.isNull() && !host.isObject()) {
      throw ApiException.badRequest("HostConfig: expected an object");
    }
    refuseOthers(host, "HostConfig.", HOST);
    refuseNetworking(body.path("NetworkingConfig"));

    String image = text(body, "Image");
    if (image == null) {
      throw ApiException.badRequest("Config.Image is required: the image to run");
    }
    RunRequest.Builder b = RunRequest.builder(image);
    b.name(name == null || name.isEmpty() ? null : name.startsWith("/") ? name.substring(1) : name);
    b.hostname(text(body, "Hostname"));
    b.user(text(body, "User"));
    b.workdir(text(body, "WorkingDir"));
    b.env(strings(body, "Env"));
    b.cmd(strings(body, "Cmd"));
    b.entrypoint(strings(body, "Entrypoint"));
    b.labels(labels(body.path("Labels")));
    b.stopSignal(text(body, "StopSignal"));
    if (body.hasNonNull("StopTimeout")) {
      b.stopTimeoutSeconds(integer(body, "StopTimeout"));
    }
    boolean tty = bool(body, "Tty");
    b.tty(tty ? true : null);
    b.interactive(bool(body, "OpenStdin") ? true : null);
    b.healthcheck(health(body.path("Healthcheck")));

    // HostConfig
    b.autoRemove(bool(host, "AutoRemove") ? true : null);
    b.readOnly(bool(host, "ReadonlyRootfs") ? true : null);
    b.memoryBytes(memory(host, "HostConfig."));
    b.cpus(cpus(host, "HostConfig."));
    b.restart(restart(host.path("RestartPolicy"), "HostConfig."));
    b.network(network(text(host, "NetworkMode")));
    b.dns(emptyIsNull(strings(host, "Dns")));
    b.dnsSearch(emptyIsNull(strings(host, "DnsSearch")));
    b.extraHosts(emptyIsNull(strings(host, "ExtraHosts")));
    List<Integer> size = consoleSize(host.path("ConsoleSize"));
    b.consoleSize(tty ? size : null);
    boolean publishAll = bool(host, "PublishAllPorts");
    b.publishAll(publishAll ? true : null);
    b.ports(emptyIsNull(ports(host.path("PortBindings"), body.path("ExposedPorts"), publishAll)));
    b.mounts(emptyIsNull(mounts(body.path("Volumes"), host)));
    return b.build();
  }

  /**
   * Docker's update body (UpdateConfig: the Resources fields inline, and RestartPolicy) to the
   * inferno {@link UpdateRequest}: Memory, NanoCpus and RestartPolicy translate (0 and an empty
   * policy change nothing, as in dockerd); every other field must be zero, else 400 naming it.
   */
  static UpdateRequest translateUpdate(JsonNode body) {
    if (body == null || !body.isObject()) {
      throw ApiException.badRequest("malformed JSON in the request body: expected an object");
    }
    refuseOthers(body, "", UPDATE);
    JsonNode policy = body.path("RestartPolicy");
    // "no" is a change here (create leaves it unset: no is the default)
    String restart = policy.path("Name").asText("").equals("no") ? "no" : restart(policy, "");
    return new UpdateRequest(restart, memory(body, ""), cpus(body, ""));
  }

  /** {@code Memory} in bytes; 0 is unset. */
  private static Long memory(JsonNode n, String prefix) {
    long memory = n.path("Memory").asLong(0);
    if (memory < 0) {
      throw ApiException.badRequest(prefix + "Memory " + memory + ": must be 0 or more bytes");
    }
    return memory == 0 ? null : memory;
  }

  /** {@code NanoCpus} as CPUs; 0 is unset. */
  private static Double cpus(JsonNode n, String prefix) {
    long nanoCpus = n.path("NanoCpus").asLong(0);
    if (nanoCpus < 0) {
      throw ApiException.badRequest(prefix + "NanoCpus " + nanoCpus + ": must be 0 or more");
    }
    return nanoCpus == 0 ? null : nanoCpus / 1e9;
  }

  /** Fields outside {@code known} must be zero; the first that is not gets the 400. */
  private static void refuseOthers(JsonNode node, String prefix, Set<String> known) {
    if (!node.isObject()) {
      return;
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!known.contains(e.getKey())
          && !isZero(e.getValue())
          && !e.getValue().equals(UNSET.get(prefix + e.getKey()))) {
        throw unsupported(prefix + e.getKey());
      }
    }
  }

  static ApiException unsupported(String field) {
    String why = WHY.get(field);
    return ApiException.badRequest(
        field
            + " is not supported: "
            + (why != null ? why : "inferno runs each container as a microVM")
            + " (docs/docker-api.md lists what is); drop the option");
  }

  /**
   * Go's zero value, as a client serializing a whole struct sends it: null, false, 0, "", and
   * arrays or objects of nothing but zeros (e.g. {@code ConsoleSize: [0,0]}, an endpoint for the
   * default network with every field empty).
   */
  static boolean isZero(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      return true;
    }
    if (n.isBoolean()) {
      return !n.booleanValue();
    }
    if (n.isNumber()) {
      return n.doubleValue() == 0;
    }
    if (n.isTextual()) {
      return n.textValue().isEmpty();
    }
    if (n.isContainerNode()) {
      for (JsonNode c : n) {
        if (!isZero(c)) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  /** NetworkingConfig: the default network's endpoint only, with nothing set. */
  private static void refuseNetworking(JsonNode n) {
    if (isZero(n)) {
      return;
    }
    for (Map.Entry<String, JsonNode> e : n.path("EndpointsConfig").properties()) {
      if (!isZero(e.getValue())) {
        throw unsupported("NetworkingConfig.EndpointsConfig." + e.getKey());
      }
    }
    refuseOthers(n, "NetworkingConfig.", Set.of("EndpointsConfig"));
  }

  private static String network(String mode) {
    if (mode == null || mode.equals("default") || mode.equals("bridge")) {
      return null;
    }
    if (mode.equals("none")) {
      return "none";
    }
    if (mode.equals("host")) {
      throw ApiException.badRequest(
          "HostConfig.NetworkMode=host is not supported: a microVM has its own network stack and"
              + " cannot share the host's; publish ports with -p instead");
    }
    throw ApiException.badRequest(
        "HostConfig.NetworkMode="
            + mode
            + " is not supported: a container joins the default network or none");
  }

  private static String restart(JsonNode p, String prefix) {
    if (isZero(p)) {
      return null;
    }
    String name = p.path("Name").asText("");
    int max = p.path("MaximumRetryCount").asInt(0);
    return switch (name) {
      case "", "no" -> null;
      case "on-failure" -> max > 0 ? "on-failure:" + max : "on-failure";
      case "always", "unless-stopped" -> name;
      default ->
          throw ApiException.badRequest(
              prefix
                  + "RestartPolicy.Name \""
                  + name
                  + "\": no, on-failure, always or unless-stopped");
    };
  }

  private static List<Integer> consoleSize(JsonNode n) {
    if (isZero(n)) {
      return null;
    }
    if (!n.isArray() || n.size() != 2) {
      throw ApiException.badRequest("HostConfig.ConsoleSize: expected [height, width]");
    }
    return List.of(n.get(0).asInt(), n.get(1).asInt());
  }

  /**
   * PortBindings as {@code -p} strings ({@code [IP:][HOSTPORT:]PORT/PROTO}); with PublishAllPorts,
   * every ExposedPort without a binding gets a random host port (the image's EXPOSE ones: {@code
   * publishAll}).
   */
  private static List<String> ports(JsonNode bindings, JsonNode exposed, boolean publishAll) {
    List<String> out = new ArrayList<>();
    // not isZero: {"80/tcp":[{"HostIp":"","HostPort":""}]} (docker -p 80, Testcontainers) is all
    // empty strings and still asks for a random host port
    if (!bindings.isMissingNode() && !bindings.isNull()) {
      if (!bindings.isObject()) {
        throw ApiException.badRequest("HostConfig.PortBindings: expected an object");
      }
      for (Map.Entry<String, JsonNode> e : bindings.properties()) {
        String port = e.getKey();
        JsonNode list = e.getValue();
        if (list == null || list.isNull() || list.isEmpty()) {
          out.add(port);
          continue;
        }
        for (JsonNode bind : list) {
          String ip = bind.path("HostIp").asText("");
          String hostPort = bind.path("HostPort").asText("");
          if (hostPort.equals("0")) {
            hostPort = ""; // Docker: 0 is a random host port, as none
          }
          if (ip.contains(":")) {
            ip = "[" + ip + "]";
          }
          out.add(
              ip.isEmpty()
                  ? (hostPort.isEmpty() ? port : hostPort + ":" + port)
                  : ip + ":" + hostPort + ":" + port);
        }
      }
    }
    if (publishAll && exposed.isObject()) {
      for (Iterator<String> it = exposed.fieldNames(); it.hasNext(); ) {
        String port = it.next();
        if (!bindings.has(port)) {
          out.add(port);
        }
      }
    }
    return out;
  }

  /**
   * Config.Volumes (anonymous volumes), HostConfig.Binds ({@code NAME:/path[:ro]}; a host path is
   * refused with {@link MountGrammar#NO_BIND}), HostConfig.Mounts (volume, tmpfs) and
   * HostConfig.Tmpfs.
   */
  private static List<Mount> mounts(JsonNode volumes, JsonNode host) {
    List<Mount> out = new ArrayList<>();
    try {
      if (volumes.isObject()) {
        volumes.fieldNames().forEachRemaining(p -> out.add(Mount.volume(null, p, false)));
      }
      for (String bind :
          strings(host, "Binds") == null ? List.<String>of() : strings(host, "Binds")) {
        out.add(MountGrammar.volume(bind));
      }
      for (JsonNode m : host.path("Mounts")) {
        out.add(mount(m));
      }
      for (Map.Entry<String, JsonNode> e : host.path("Tmpfs").properties()) {
        String opts = e.getValue().asText("");
        out.add(MountGrammar.tmpfs(opts.isEmpty() ? e.getKey() : e.getKey() + ":" + opts));
      }
      MountGrammar.check(out);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    return out;
  }

  private static Mount mount(JsonNode m) {
    refuseOthers(
        m, "HostConfig.Mounts.", Set.of("Type", "Source", "Target", "ReadOnly", "TmpfsOptions"));
    String type = m.path("Type").asText("volume");
    String target = m.path("Target").asText(null);
    boolean ro = m.path("ReadOnly").asBoolean(false);
    return switch (type) {
      case "volume" -> {
        String src = m.path("Source").asText("");
        yield Mount.volume(src.isEmpty() ? null : src, target, ro);
      }
      case "tmpfs" -> {
        JsonNode t = m.path("TmpfsOptions");
        refuseOthers(t, "HostConfig.Mounts.TmpfsOptions.", Set.of("SizeBytes", "Mode"));
        long sizeBytes = t.path("SizeBytes").asLong(0);
        int mode = t.path("Mode").asInt(0);
        yield Mount.tmpfs(target, sizeBytes == 0 ? null : sizeBytes, mode == 0 ? null : mode);
      }
      case "bind" -> throw new IllegalArgumentException(MountGrammar.NO_BIND);
      default ->
          throw new IllegalArgumentException(
              "HostConfig.Mounts.Type \"" + type + "\" is not supported: volume or tmpfs");
    };
  }

  private static HealthConfig health(JsonNode h) {
    if (isZero(h)) {
      return null;
    }
    refuseOthers(
        h, "Config.Healthcheck.", Set.of("Test", "Interval", "Timeout", "StartPeriod", "Retries"));
    return new HealthConfig(
        strings(h, "Test"),
        longOrNull(h, "Interval"),
        longOrNull(h, "Timeout"),
        longOrNull(h, "StartPeriod"),
        h.hasNonNull("Retries") ? h.get("Retries").asInt() : null);
  }

  private static Long longOrNull(JsonNode n, String f) {
    return n.hasNonNull(f) && n.get(f).asLong() != 0 ? n.get(f).asLong() : null;
  }

  private static Map<String, String> labels(JsonNode n) {
    if (isZero(n)) {
      return null;
    }
    if (!n.isObject()) {
      throw ApiException.badRequest("Config.Labels: expected an object of strings");
    }
    Map<String, String> out = new LinkedHashMap<>();
    n.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }

  private static String text(JsonNode n, String f) {
    JsonNode v = n.path(f);
    if (v.isMissingNode() || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw ApiException.badRequest(f + ": expected a string");
    }
    return v.textValue().isEmpty() ? null : v.textValue();
  }

  private static boolean bool(JsonNode n, String f) {
    JsonNode v = n.path(f);
    if (v.isMissingNode() || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw ApiException.badRequest(f + ": expected true or false");
    }
    return v.booleanValue();
  }

  private static Integer integer(JsonNode n, String f) {
    JsonNode v = n.get(f);
    if (!v.canConvertToInt()) {
      throw ApiException.badRequest(f + ": expected an integer");
    }
    return v.intValue();
  }

  /** A list of strings; Docker also takes a single string for Cmd, Entrypoint and Healthcheck. */
  private static List<String> strings(JsonNode n, String f) {
    JsonNode v = n.path(f);
    if (v.isMissingNode() || v.isNull()) {
      return null;
    }
    if (v.isTextual()) {
      return List.of(v.textValue());
    }
    if (!v.isArray()) {
      throw ApiException.badRequest(f + ": expected a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode x : v) {
      if (!x.isTextual()) {
        throw ApiException.badRequest(f + ": expected a list of strings");
      }
      out.add(x.textValue());
    }
    return out;
  }

  private static <T> List<T> emptyIsNull(List<T> l) {
    return l == null || l.isEmpty() ? null : l;
  }
}
