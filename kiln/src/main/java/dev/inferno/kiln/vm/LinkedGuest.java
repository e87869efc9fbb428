package dev.inferno.kiln.vm;

import dev.inferno.kiln.guest.GuestLink;
import dev.inferno.kiln.guest.SocketOwner;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.protocol.ExitReport;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Optional;

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
   * @param closeLogs false when the caller keeps reading {@link #logs()} after the VM is gone and
   *     closes the store itself ({@code kiln --config} draining the last records)
   */
  public static GuestSession.Factory factory(boolean closeLogs) {
    return factory(closeLogs, LogStore.Options.defaults());
  }

  /** As above, with the log store's rotation and retention (the daemon's log-max-size/-files). */
  public static GuestSession.Factory factory(boolean closeLogs, LogStore.Options logOptions) {
    return (spec, layout, transport) -> open(spec, layout, transport, closeLogs, logOptions);
  }

  static LinkedGuest open(VmSpec spec, VmLayout layout, GuestTransport transport, boolean closeLogs)
      throws IOException {
    return open(spec, layout, transport, closeLogs, LogStore.Options.defaults());
  }

  static LinkedGuest open(
      VmSpec spec,
      VmLayout layout,
      GuestTransport transport,
      boolean closeLogs,
      LogStore.Options logOptions)
      throws IOException {
    dev.inferno.kiln.guest.GuestTransport t;
    SocketOwner owner = null;
    switch (transport) {
      case GuestTransport.VirtioSerial v ->
          t = new dev.inferno.kiln.guest.GuestTransport.VirtioSerial(layout.dir());
      case GuestTransport.HybridVsock h -> {
        t =
            new dev.inferno.kiln.guest.GuestTransport.HybridVsock(
                h.udsPath(),
                new dev.inferno.kiln.guest.GuestTransport.Ports(
                    h.ports().get("logs"),
                    h.ports().get("exit"),
                    h.ports().get("metrics"),
                    h.ports().get("control")));
        owner = new SocketOwner(h.uid(), h.gid());
      }
    }
    LogStore store = LogStore.open(layout.logsDir(), logOptions);
    try {
      GuestLink link =
          GuestLink.start(new GuestLink.Config(spec.id(), t, store, layout.exitRecord(), owner));
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
  public Optional<ExitRecord> exitReport() {
    if (!link.exit().isDone() || link.exit().isCompletedExceptionally()) {
      return Optional.empty();
    }
    ExitReport r = link.exit().join();
    return Optional.of(
        new ExitRecord(
            r.code(),
            r.signal(),
            r.oom(),
            r.startedNs(),
            r.finishedNs(),
            r.error(),
            "guest",
            null));
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
