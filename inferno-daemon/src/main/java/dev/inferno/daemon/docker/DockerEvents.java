package dev.inferno.daemon.docker;

import dev.inferno.daemon.store.VmRecord;
import dev.inferno.image.ref.ImageRef;
import dev.inferno.model.Event;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * inferno's events as Docker's (docs/docker-api.md, "System"): the one mapping from the event bus's
 * types onto Docker's {@code Type}/{@code Action}, and Docker's event filters.
 *
 * <p>created→create, started→start, exited→die (exitCode), restarted→restart, paused→pause,
 * unpaused→unpause, renamed→rename, updated→update, removed→destroy, "health_status: S" as it is;
 * pulled→image pull, loaded→image load, tagged→image tag, untagged→image untag, image-removed→image
 * delete; volume-created, -removed, -mounted, -unmounted→volume create, destroy, mount, unmount.
 * "restarting" has no Docker action (dockerd reports a restart policy's restart as die then start):
 * it is not shown.
 */
final class DockerEvents {
  /** The filter keys Docker's events take and this API serves. */
  static final Set<String> FILTERS =
      Set.of("container", "event", "type", "image", "volume", "label");

  private DockerEvents() {}

  /**
   * Docker's form of {@code e}, or null when Docker has no such event.
   *
   * @param vm the VM an event names, or null when it is gone (then attributes lack the image)
   */
  static SystemShapes.Event of(Event e, Function<String, VmRecord> vm) {
    String action;
    String type = "container";
    switch (e.type()) {
      case "created" -> action = "create";
      case "started" -> action = "start";
      case "exited" -> action = "die";
      case "restarted" -> action = "restart";
      case "paused" -> action = "pause";
      case "unpaused" -> action = "unpause";
      case "renamed" -> action = "rename";
      case "updated" -> action = "update";
      case "removed" -> action = "destroy";
      case "pulled" -> {
        type = "image";
        action = "pull";
      }
      case "loaded" -> {
        type = "image";
        action = "load";
      }
      case "image-removed" -> {
        type = "image";
        action = "delete";
      }
      case "tagged", "untagged" -> {
        type = "image";
        action = e.type().equals("tagged") ? "tag" : "untag";
      }
      case "volume-created", "volume-removed", "volume-mounted", "volume-unmounted" -> {
        type = "volume";
        action =
            switch (e.type()) {
              case "volume-created" -> "create";
              case "volume-removed" -> "destroy";
              case "volume-mounted" -> "mount";
              default -> "unmount";
            };
      }
      default -> {
        if (!e.type().startsWith("health_status")) {
          return null;
        }
        action = e.type();
      }
    }
    Map<String, String> attrs = new LinkedHashMap<>();
    String from = null;
    if (type.equals("container")) {
      VmRecord r = e.id() == null ? null : vm.apply(e.id());
      if (r != null && r.request() != null && r.request().labels() != null) {
        attrs.putAll(r.request().labels()); // as dockerd: the labels, then image and name over them
      }
      if (r != null && r.image() != null) {
        // dockerd's is Config.Image as the client typed it; the VM keeps it normalized
        from = familiar(r.image());
        attrs.put("image", from);
      }
      String name = e.name() != null ? e.name() : r == null ? null : r.name();
      if (name != null) {
        attrs.put("name", name);
      }
      if (action.equals("die") && e.exit() != null) {
        attrs.put("exitCode", String.valueOf(e.exit().code() == null ? -1 : e.exit().code()));
        if (e.exit().signal() != null) {
          attrs.put("signal", e.exit().signal());
        }
      }
    } else if (type.equals("volume")) {
      attrs.putAll(volumeAttributes(e));
    } else {
      attrs.put("name", familiar(e.id()));
    }
    String id = type.equals("image") ? familiar(e.id()) : e.id();
    long nanos = e.time().getEpochSecond() * 1_000_000_000L + e.time().getNano();
    boolean legacy = !type.equals("volume"); // dockerd's status/id/from: containers and images
    return new SystemShapes.Event(
        legacy ? action : null,
        legacy ? id : null,
        from,
        type,
        action,
        new SystemShapes.Actor(id, Map.copyOf(attrs)),
        "local",
        e.time().getEpochSecond(),
        nanos);
  }

  /**
   * A volume event's attributes as dockerd's: {@code driver}; a mount's {@code container}, {@code
   * destination} and {@code read/write}; an unmount's {@code container}.
   */
  private static Map<String, String> volumeAttributes(Event e) {
    Map<String, String> in = e.attributes() == null ? Map.of() : e.attributes();
    Map<String, String> out = new LinkedHashMap<>();
    out.put("driver", in.getOrDefault("driver", "local"));
    if (in.containsKey("vm")) {
      out.put("container", in.get("vm"));
    }
    if (in.containsKey("destination")) {
      out.put("destination", in.get("destination"));
    }
    if (in.containsKey("rw")) {
      out.put("read/write", in.get("rw"));
    }
    return out;
  }

  /** Whether {@code ev} passes Docker's event filters (keys all apply; values are alternatives). */
  static boolean admits(SystemShapes.Event ev, DockerFilters f) {
    Map<String, String> a = ev.Actor().Attributes();
    boolean container = ev.Type().equals("container");
    return f.admits("type", ev.Type()::equals)
        && f.admits("event", v -> v.equals(ev.Action()) || ev.Action().startsWith(v + ":"))
        && f.admits(
            "container",
            v -> container && (ev.Actor().ID().startsWith(v) || v.equals(a.get("name"))))
        && f.admits("image", v -> sameImage(v, container ? a.get("image") : ev.Actor().ID()))
        // dockerd's fuzzy match on the actor: the name or a prefix of it, only volume events
        && f.admits("volume", v -> ev.Type().equals("volume") && ev.Actor().ID().startsWith(v))
        && f.labels(a); // all, as dockerd
  }

  /** Image names as Docker compares them: busybox = busybox:latest = docker.io/library/busybox. */
  static boolean sameImage(String filter, String image) {
    if (image == null) {
      return false;
    }
    try {
      ImageRef f = ImageRef.parse(filter);
      ImageRef i = ImageRef.parse(image);
      // a filter without a tag matches every tag, as dockerd's stripTag
      boolean tagged = filter.lastIndexOf(':') > filter.lastIndexOf('/');
      return f.name().equals(i.name()) && (!tagged || java.util.Objects.equals(f.tag(), i.tag()));
    } catch (IllegalArgumentException e) {
      return filter.equals(image);
    }
  }

  /** An image reference as Docker prints it ({@code busybox:latest}). */
  static String familiar(String ref) {
    try {
      return ImageRef.parse(ref).familiar();
    } catch (IllegalArgumentException | NullPointerException e) {
      return ref;
    }
  }
}
