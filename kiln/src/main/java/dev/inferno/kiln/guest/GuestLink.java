package dev.inferno.kiln.guest;

import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.protocol.ControlReply;
import dev.inferno.kiln.protocol.ControlRequest;
import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.kiln.protocol.Frame;
import dev.inferno.kiln.protocol.FrameDecoder;
import dev.inferno.kiln.protocol.GuestMetrics;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The host side of the protocol for one VM: listens for the guest's channels, persists LOG frames
 * to the VM's {@link LogStore} and acks them once durable, records the exit report ({@link
 * ExitFile}) before acking it, keeps the latest metrics, and sends CONTROL requests. Connections
 * may die and come back at any time (a restarted kiln, a reconnecting QEMU or guest); init resends
 * what was not acked and the store drops what it already has.
 *
 * <p>Start it before the VMM: {@link #start} returns once every listener is bound. Close it after
 * the VMM exited.
 */
public final class GuestLink implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(GuestLink.class.getName());

  /**
   * What a link needs.
   *
   * @param vmId the VM id init announces in HELLO (connections announcing another id are refused);
   *     null accepts any
   * @param transport where the channels are
   * @param logs the VM's log store (owned by the caller; the link does not close it)
   * @param exitFile where the exit report is recorded ({@code exit.json}); one found at start
   *     counts as this VM's exit (re-adoption after the guest exited), so remove a stale one before
   *     booting the VM again
   * @param owner who must be able to connect to the listening sockets (the jailed VMM's uid/gid),
   *     or null
   */
  public record Config(
      String vmId, GuestTransport transport, LogStore logs, Path exitFile, SocketOwner owner) {
    /** A config whose socket owner is the transport's ({@link GuestTransport#owner()}). */
    public Config(String vmId, GuestTransport transport, LogStore logs, Path exitFile) {
      this(vmId, transport, logs, exitFile, transport.owner());
    }
  }

  /** Counters since start. */
  public record Stats(
      long connections,
      long logRecords,
      long logBytes,
      long logDuplicates,
      long logGaps,
      long acks,
      long framesBeforeHello,
      long unexpectedFrames,
      long discardedBytes,
      long rejectedConnections) {}

  private final Config config;
  private final LinkStats stats = new LinkStats();
  private volatile boolean greeted;
  private final CompletableFuture<ExitReport> exit = new CompletableFuture<>();
  private final AtomicReference<GuestMetrics> metrics = new AtomicReference<>();
  private final List<UnixListener> listeners = new ArrayList<>();
  private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
  private final Set<Thread> handlers = ConcurrentHashMap.newKeySet();
  private final AtomicReference<SocketChannel> logsConnection = new AtomicReference<>();
  private final Object exitLock = new Object();
  private final LogIngest.Gaps gaps = new LogIngest.Gaps();
  private final ControlClient control;
  private final SessionClient session;
  private volatile boolean closed;

  private GuestLink(Config config) {
    this.config = config;
    ControlClient.Dialer dialer =
        switch (config.transport()) {
          case GuestTransport.VirtioSerial v -> null;
          case GuestTransport.HybridVsock h ->
              new VsockDialer(h.udsPath(), h.ports().of(Channel.CONTROL));
        };
    this.control = new ControlClient(config.vmId(), stats, dialer);
    ControlClient.Dialer sessionDialer =
        switch (config.transport()) {
          case GuestTransport.VirtioSerial v -> null;
          case GuestTransport.HybridVsock h ->
              new VsockDialer(h.udsPath(), h.ports().of(Channel.SESSION));
        };
    this.session =
        new SessionClient(
            config.vmId(), stats, sessionDialer, SESSION_CONNECT_TIMEOUT, exit::isDone);
  }

  /** How long an exec or a resize waits for init's session channel before it gives up. */
  static final Duration SESSION_CONNECT_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Binds the listeners (replacing stale socket files) and starts serving. An exit report already
   * recorded in {@code exitFile} (kiln restarted after the guest exited) completes {@link #exit()}
   * at once.
   */
  public static GuestLink start(Config config) throws IOException {
    GuestLink link = new GuestLink(config);
    try {
      Optional<ExitReport> recorded = ExitFile.read(config.exitFile());
      recorded.ifPresent(link.exit::complete);
      link.listen(Channel.LOGS, link::serveLogs);
      link.listen(Channel.EXIT, link::serveExit);
      link.listen(Channel.METRICS, link::serveMetrics);
      if (config.transport() instanceof GuestTransport.VirtioSerial) {
        link.listen(Channel.CONTROL, link.control::attach);
        link.listen(Channel.SESSION, link.session::attach);
      }
    } catch (IOException | RuntimeException e) {
      link.close();
      throw e;
    }
    return link;
  }

  private void listen(Channel channel, java.util.function.Consumer<SocketChannel> handler)
      throws IOException {
    Path path = config.transport().listenPath(channel);
    listeners.add(
        UnixListener.bind(
            path,
            config.owner(),
            ch -> {
              if (closed) {
                Frames.closeQuietly(ch);
                return;
              }
              connections.add(ch);
              handlers.add(Thread.currentThread());
              stats.connections.increment();
              try {
                if (!closed) { // close() may have run between the two checks
                  handler.accept(ch);
                }
              } finally {
                connections.remove(ch);
                handlers.remove(Thread.currentThread());
                Frames.closeQuietly(ch);
              }
            }));
  }

  /**
   * Completes with the exit report once it is durably recorded (from the exit channel or {@link
   * #recordExit}).
   */
  public CompletableFuture<ExitReport> exit() {
    return exit;
  }

  /**
   * Records an exit report that did not come over the exit channel (recovered from the console by
   * {@link ConsoleExit}, or the host's own when the VMM died without one). A report already
   * recorded wins.
   *
   * @return the report now on record
   */
  public ExitReport recordExit(ExitReport report) throws IOException {
    synchronized (exitLock) {
      if (!exit.isDone()) {
        ExitFile.write(config.exitFile(), report);
        exit.complete(report);
      }
      return exit.join();
    }
  }

  /** Asks init to send the workload its stop signal (PROTOCOL.md §7); returns init's reply. */
  public ControlReply stop(Duration timeout) throws ControlException, InterruptedException {
    return control.request(ControlRequest.stop(), timeout);
  }

  /** Asks init to send signal {@code signal} to the workload; returns init's reply. */
  public ControlReply signal(int signal, Duration timeout)
      throws ControlException, InterruptedException {
    return control.request(ControlRequest.signal(signal), timeout);
  }

  /**
   * The VM's interactive side over the session channel (PROTOCOL.md §10): the main process's stdin
   * and terminal, exec sessions. Its sessions end with 137 when the link closes (the VM is gone).
   */
  public GuestExec exec() {
    return session;
  }

  /** The latest METRICS frame, if any came. */
  public Optional<GuestMetrics> metrics() {
    return Optional.ofNullable(metrics.get());
  }

  /** Whether init has said HELLO on a channel: the guest got as far as running its init. */
  public boolean greeted() {
    return greeted;
  }

  public Stats stats() {
    return stats.snapshot();
  }

  /** The unix sockets kiln listens on (the VMM connects to these). */
  public List<Path> socketPaths() {
    return listeners.stream().map(UnixListener::path).toList();
  }

  private void serveLogs(SocketChannel ch) {
    // the newest logs connection wins: an older one is a dead link whose frames init will resend
    // anyway
    Frames.closeQuietly(logsConnection.getAndSet(ch));
    new LogIngest(ch, config.logs(), config.vmId(), stats, gaps).run();
    logsConnection.compareAndSet(ch, null);
  }

  private void serveExit(SocketChannel ch) {
    serveFrames(
        ch,
        Channel.EXIT,
        f -> {
          if (f instanceof Frame.Exit e) {
            recordExit(e.report()); // durable before the ack; a resent EXIT is acked again
            Frames.write(ch, new Frame.ExitAck());
          } else {
            stats.unexpectedFrames.increment();
          }
        });
  }

  private void serveMetrics(SocketChannel ch) {
    serveFrames(
        ch,
        Channel.METRICS,
        f -> {
          if (f instanceof Frame.Metrics m) {
            metrics.set(m.metrics());
          } else {
            stats.unexpectedFrames.increment();
          }
        });
  }

  /** What a channel does with each frame other than HELLO. */
  @FunctionalInterface
  private interface FrameHandler {
    void handle(Frame f) throws IOException;
  }

  /**
   * Reads {@code ch} until the peer goes, checking each HELLO (a wrong one ends the connection) and
   * handing every other frame to {@code handler}.
   */
  private void serveFrames(SocketChannel ch, Channel channel, FrameHandler handler) {
    try {
      FrameDecoder d = new FrameDecoder();
      while (d.readFrom(ch, 8192) >= 0) {
        for (Frame f = d.next(); f != null; f = d.next()) {
          if (f instanceof Frame.Hello h) {
            if (!acceptHello(h, channel, config.vmId(), stats)) {
              return;
            }
            greeted = true;
          } else {
            handler.handle(f);
          }
        }
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "{0} connection ended: {1}", channel, e.toString());
    }
  }

  /** Whether a HELLO is from the right VM on the right channel; a wrong one ends the connection. */
  static boolean acceptHello(Frame.Hello h, Channel expected, String vmId, LinkStats stats) {
    if (h.channel() != expected.id() || (vmId != null && !vmId.equals(h.vmId()))) {
      LOG.log(
          System.Logger.Level.WARNING,
          "refusing a connection on the {0} channel that says HELLO for channel {1} of VM {2}",
          expected,
          h.channel(),
          h.vmId());
      stats.rejectedConnections.increment();
      return false;
    }
    return true;
  }

  /**
   * Stops listening, closes every connection and removes the socket files. Call it after the VMM
   * exited (closing earlier can cut the guest's last frames, PROTOCOL.md §8).
   */
  @Override
  public void close() {
    closed = true;
    for (UnixListener l : listeners) {
      try {
        l.close();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot remove socket {0}: {1}", l.path(), e);
      }
    }
    control.close();
    session.close();
    for (SocketChannel c : connections) {
      Frames.closeQuietly(c);
    }
    long deadline = System.nanoTime() + 5_000_000_000L;
    for (Thread t : handlers) {
      if (t == Thread.currentThread()) {
        continue;
      }
      try {
        t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
