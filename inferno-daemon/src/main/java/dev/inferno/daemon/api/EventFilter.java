package dev.inferno.daemon.api;

import dev.inferno.daemon.vm.ApiException;
import dev.inferno.model.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The events stream's filters, as Docker's {@code --filter}: {@code vm=NAME|ID} (also {@code
 * container=}; a name, a full id or an id prefix; a volume's mount events name the VM by id),
 * {@code volume=NAME} (a volume's events) and {@code type=TYPE} (also {@code event=}). Values of
 * one key are alternatives; the keys all apply.
 */
record EventFilter(List<String> vms, List<String> volumes, List<String> types) {
  static final Set<String> TYPES =
      Set.of(
          "created",
          "started",
          "exited",
          "restarting",
          "restarted",
          "paused",
          "unpaused",
          "renamed",
          "updated",
          "removed",
          "health_status",
          "pulled",
          "loaded",
          "image-removed",
          "volume-created",
          "volume-removed",
          "volume-mounted",
          "volume-unmounted");

  /**
   * @param filters {@code key=value} strings
   * @param legacyId the older {@code id=} parameter (one VM), or null
   */
  static EventFilter of(List<String> filters, String legacyId) {
    List<String> vms = new ArrayList<>();
    List<String> types = new ArrayList<>();
    List<String> volumes = new ArrayList<>();
    if (legacyId != null && !legacyId.isEmpty()) {
      vms.add(legacyId);
    }
    for (String f : filters) {
      int eq = f.indexOf('=');
      String key = eq < 0 ? f : f.substring(0, eq);
      String value = eq < 0 ? "" : f.substring(eq + 1);
      if (value.isEmpty()) {
        throw ApiException.badRequest(
            "invalid filter \"" + f + "\": expected vm=NAME|ID, volume=NAME or type=TYPE");
      }
      switch (key) {
        case "vm", "container" -> vms.add(value);
        case "volume" -> volumes.add(value);
        case "type", "event" -> {
          if (!TYPES.contains(value)) {
            throw ApiException.badRequest(
                "invalid event type \"" + value + "\": one of " + String.join(", ", sorted()));
          }
          types.add(value);
        }
        default ->
            throw ApiException.badRequest(
                "invalid filter \""
                    + f
                    + "\": the keys are vm (or container), volume and type (or event)");
      }
    }
    return new EventFilter(List.copyOf(vms), List.copyOf(volumes), List.copyOf(types));
  }

  private static List<String> sorted() {
    return TYPES.stream().sorted().toList();
  }

  boolean admits(Event e) {
    if (!types.isEmpty() && !types.contains(e.type())) {
      return false;
    }
    boolean volume = e.type().startsWith("volume-");
    if (!volumes.isEmpty() && !(volume && volumes.contains(e.id()))) {
      return false;
    }
    if (vms.isEmpty()) {
      return true;
    }
    // a volume event is a VM's when it names the VM (mounted, unmounted), never by the volume's
    // name
    String vm = volume ? (e.attributes() == null ? null : e.attributes().get("vm")) : e.id();
    for (String v : vms) {
      if (v.equals(e.name()) || (vm != null && vm.startsWith(v))) {
        return true;
      }
    }
    return false;
  }
}
