package dev.inferno.kiln.vm;

import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.guest.GuestLink;
import dev.inferno.kiln.guest.GuestTransport;
import dev.inferno.kiln.logs.LogSink;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.protocol.GuestMetrics;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * The protocol-backed {@link GuestSession}: a {@link GuestLink} persisting the VM's logs into
 * {@code logs/} and its exit report into exit.json.
 */
public final class LinkedGuest implements GuestSession {
  private static final System.Logger LOG = System.getLogger(LinkedGuest.class.getName());

  private final GuestLink link;
  private final LogStore logs;
  private final boolean closeLogs;

  private LinkedGuest(GuestLink link, LogStore logs, boolean closeLogs) {
    this.link = link;
    this.logs = logs;
    this.closeLogs = closeLogs;
  }

  /** Sessions whose log store closes with the session (the daemon reads logs/ on its own). */
  public static GuestSession.Factory factory() {
    return factory(true);
  }

  /**
   * Sessions with the default log store options.
   *
   * @param closeLogs false when the caller keeps reading {@link #logs()} after the VM is gone and
   *     closes the store itself ({@code kiln --config} draining the last records)
   */
  public static GuestSession.Factory factory(boolean closeLogs) {
    return factory(closeLogs, LogStore.Options.defaults());
  }

  /** As above, with the log store's rotation and retention (the daemon's log-max-size/-files). */
  public static GuestSession.Factory factory(boolean closeLogs, LogStore.Options logOptions) {
    return factory(closeLogs, logOptions, null, VmSpec::id);
  }

  /**
   * Sessions that also forward every VM's durable log records to {@code sink} (NDJSON to a unix
   * socket, e.g. vector's socket source), from the moment the session opens until its log store
   * closes. The sink is shared by all VMs and owned by the caller, who closes it at shutdown.
   *
   * @param logOptions the log store's rotation and retention
   * @param sink where records go, or null for none
   * @param vmName the {@code vm_name} of a VM's lines (e.g. the container name)
   */
  public static GuestSession.Factory factory(
      boolean closeLogs,
      LogStore.Options logOptions,
      LogSink sink,
      Function<VmSpec, String> vmName) {
    return (spec, layout, transport) ->
        open(spec, layout, transport, closeLogs, logOptions, sink, vmName.apply(spec));
  }

  static LinkedGuest open(
      VmSpec spec,
      VmLayout layout,
      GuestTransport transport,
      boolean closeLogs,
      LogStore.Options logOptions,
      LogSink sink,
      String vmName)
      throws IOException {
    LogStore store = LogStore.open(layout.logsDir(), logOptions);
    try {
      if (sink != null) {
        // before the link: records made durable from here on are all forwarded
        sink.follow(store, spec.id(), vmName);
      }
      GuestLink link =
          GuestLink.start(new GuestLink.Config(spec.id(), transport, store, layout.exitRecord()));
      return new LinkedGuest(link, store, closeLogs);
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
  }

  public GuestLink link() {
    return link;
  }

  public LogStore logs() {
    return logs;
  }

  @Override
  public boolean requestStop(Duration timeout) {
    try {
      return link.stop(timeout).ok();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      LOG.log(Level.INFO, "stop over the control channel failed: " + e.getMessage());
      return false;
    }
  }

  @Override
  public boolean signal(int signal, Duration timeout) {
    try {
      return link.signal(signal, timeout).ok();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      LOG.log(Level.INFO, "signal over the control channel failed: " + e.getMessage());
      return false;
    }
  }

  @Override
  public Optional<GuestMetrics> metrics() {
    return link.metrics();
  }

  @Override
  public Optional<GuestExec> exec() {
    return Optional.of(link.exec());
  }

  @Override
  public boolean initConnected() {
    return link.greeted();
  }

  @Override
  public Optional<ExitRecord> exitReport() {
    if (!link.exit().isDone() || link.exit().isCompletedExceptionally()) {
      return Optional.empty();
    }
    return Optional.of(ExitRecord.fromReport(link.exit().join(), "guest"));
  }

  @Override
  public void close() {
    link.close();
    if (closeLogs) {
      try {
        logs.close();
      } catch (IOException e) {
        LOG.log(Level.WARNING, "closing the log store failed: " + e.getMessage());
      }
    }
  }
}
