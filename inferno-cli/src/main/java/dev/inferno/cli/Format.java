package dev.inferno.cli;

import dev.inferno.model.PublishedPort;
import dev.inferno.model.VmSummary;
import dev.inferno.model.units.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Docker-shaped output: tables with aligned columns, "2 minutes ago", "Exited (0) …". */
final class Format {
  private Format() {}

  /** Columns separated by three spaces, padded to the widest cell (the last is not padded). */
  static String table(List<String> header, List<List<String>> rows) {
    int[] w = new int[header.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    for (List<String> r : all) {
      for (int i = 0; i < r.size(); i++) {
        w[i] = Math.max(w[i], r.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (List<String> r : all) {
      for (int i = 0; i < r.size(); i++) {
        String c = r.get(i);
        sb.append(c);
        if (i < r.size() - 1) {
          sb.repeat(' ', w[i] - c.length() + 3);
        }
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  static String ago(Instant t, Instant now) {
    if (t == null) {
      return "";
    }
    return Durations.human(Duration.between(t, now)) + " ago";
  }

  /** The STATUS column of ps. */
  static String status(VmSummary vm, Instant now) {
    return switch (vm.state()) {
      case RUNNING ->
          "Up " + Durations.human(Duration.between(vm.startedAt(), now)) + health(vm.health());
      case PAUSED -> "Up " + Durations.human(Duration.between(vm.startedAt(), now)) + " (Paused)";
      // Docker's: the last exit code, and since when it waits
      case RESTARTING -> {
        Integer code = vm.exit() == null ? null : vm.exit().code();
        yield "Restarting (" + (code == null ? "?" : code) + ") " + ago(vm.finishedAt(), now);
      }
      case EXITED -> {
        Integer code = vm.exit() == null ? null : vm.exit().code();
        yield "Exited (" + (code == null ? "?" : code) + ") " + ago(vm.finishedAt(), now);
      }
      case CREATED -> "Created";
    };
  }

  /** Docker's health suffix: " (healthy)", " (unhealthy)", " (health: starting)"; none without. */
  private static String health(String status) {
    if (status == null) {
      return "";
    }
    return status.equals("starting") ? " (health: starting)" : " (" + status + ")";
  }

  /** The COMMAND column: quoted and cut to 20 characters like Docker's. */
  static String command(List<String> cmd) {
    String s = cmd == null ? "" : String.join(" ", cmd);
    if (s.length() > 20) {
      s = s.substring(0, 19) + "…";
    }
    return "\"" + s + "\"";
  }

  /** The PORTS column: Docker's {@code 0.0.0.0:8080->80/tcp}, comma separated. */
  static String ports(List<PublishedPort> ports) {
    StringBuilder sb = new StringBuilder();
    for (PublishedPort p : ports == null ? List.<PublishedPort>of() : ports) {
      if (!sb.isEmpty()) {
        sb.append(", ");
      }
      sb.append(p);
    }
    return sb.toString();
  }

  static String shortId(String id) {
    String s = String.valueOf(id);
    if (s.startsWith("sha256:")) {
      s = s.substring(7);
    }
    return s.length() > 12 ? s.substring(0, 12) : s;
  }
}
