package dev.inferno.daemon.stats;

import dev.inferno.daemon.api.Exchange;
import dev.inferno.daemon.api.Route;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.model.VmStats;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** {@code GET /v1/vms/{id}/stats}: one reading, or (stream=1) one per interval as NDJSON. */
public final class StatsRoutes {
  private final VmService vms;
  private final StatsService stats;

  public StatsRoutes(VmService vms, StatsService stats) {
    this.vms = vms;
    this.stats = stats;
  }

  public List<Route> all() {
    return List.of(new Route("GET", "/v1/vms/{id}/stats", this::stats));
  }

  private void stats(Exchange ex) throws Exception {
    VmRecord r = vms.resolve(ex.path("id"));
    VmStats first = stats.read(r); // 409 when it does not run, before the response starts
    boolean stream = ex.query("stream") == null || ex.flag("stream"); // Docker streams by default
    if (!stream) {
      ex.send(200, first);
      return;
    }
    // Docker's stream: a reading per interval until the VM stops or the client goes away
    OutputStream out = ex.stream("application/x-ndjson");
    Instant after = Instant.now();
    VmStats s = first;
    while (true) {
      out.write(ex.json().writeValueAsBytes(s));
      out.write('\n');
      out.flush();
      Optional<VmStats> next = stats.next(r, after);
      if (next.isEmpty()) {
        return;
      }
      after = Instant.now();
      s = next.get();
    }
  }
}
