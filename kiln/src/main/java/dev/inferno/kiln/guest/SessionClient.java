package dev.inferno.kiln.guest;

import dev.inferno.kiln.exec.ExecProcess;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.ExecStartException;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.kiln.protocol.Frame;
import dev.inferno.kiln.protocol.FrameDecoder;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The host side of the session channel (PROTOCOL.md §10), one per VM: the main process's stdin and
 * terminal size (session 0) and exec sessions, multiplexed on one connection that kiln opens like
 * control (vsock: {@code CONNECT <session port>}; virtio-serial: QEMU connects to {@code
 * session.sock}) and that is usable once init's HELLO came.
 *
 * <p>One reader thread per connection demultiplexes the guest's frames and never waits for a
 * consumer: a session buffers at most the credit kiln granted it, and kiln grants more (WINDOW)
 * only for what a reader took ({@link ExecProcess#read}) or a closed session discarded. Writers of
 * stdin wait for the guest's credit. A connection that ends fails its exec sessions (the guest
 * kills them); session 0's credit starts afresh on the next connection. {@link #close} (the VM is
 * gone) ends everything with 137.
 */
@SuppressWarnings("ReferenceEquality") // connections are compared by identity on purpose
final class SessionClient implements GuestExec {
  /** Every (session, stream)'s credit at OPEN, and session 0's at every connection. */
  static final int INITIAL_WINDOW = 262144;

  static final String CHANNEL_CLOSED = "the session channel closed";
  static final String VM_STOPPED = "the VM stopped";

  private final String vmId;
  private final LinkStats stats;
  private final ControlClient.Dialer dialer; // null on virtio-serial: QEMU connects to kiln
  private final Duration connectTimeout;
  private final BooleanSupplier guestExited;

  private final ReentrantLock lock = new ReentrantLock();

  /** Signalled on every change of the connection and of session 0's credit. */
  private final Condition changed = lock.newCondition();

  private Connection current; // guarded by lock
  private boolean dialing; // guarded by lock
  private String closedWhy; // guarded by lock; set once the VM is gone
  private boolean mainEofSent; // guarded by lock
  private final ReentrantLock mainWriters = new ReentrantLock();
  private final OutputStream mainStdin = new MainStdin();

  /**
   * @param dialer opens a connection on vsock; null on virtio-serial (QEMU connects to kiln)
   * @param guestExited whether the main process's exit report came: a channel that drops after it
   *     is init shutting the VM down, so its sessions end with "the VM stopped"
   */
  SessionClient(
      String vmId,
      LinkStats stats,
      ControlClient.Dialer dialer,
      Duration connectTimeout,
      BooleanSupplier guestExited) {
    this.vmId = vmId;
    this.stats = stats;
    this.dialer = dialer;
    this.connectTimeout = connectTimeout;
    this.guestExited = guestExited;
  }

  /** One connection of the channel and the sessions opened on it. */
  private static final class Connection {
    final SocketChannel ch;
    final ReentrantLock writeLock = new ReentrantLock();
    boolean ready; // HELLO came
    boolean ended;
    long mainCredit = INITIAL_WINDOW;
    int nextSession = 1;
    final Map<Integer, Session> sessions = new HashMap<>();

    Connection(SocketChannel ch) {
      this.ch = ch;
    }

    /** Writes one frame; a failed write closes the connection (its reader then ends it). */
    void send(Frame f) throws IOException {
      writeLock.lock();
      try {
        Frames.write(ch, f);
      } catch (IOException e) {
        Frames.closeQuietly(ch);
        throw new IOException(CHANNEL_CLOSED + ": " + e.getMessage(), e);
      } finally {
        writeLock.unlock();
      }
    }

    void sendQuietly(Frame f) {
      try {
        send(f);
      } catch (IOException e) {
        // the connection is gone: its reader fails what was open on it
      }
    }
  }

  /**
   * Serves one connection until it ends (on the caller's thread: the listener's for virtio-serial,
   * the dialer's reader for vsock); a newer connection replaces an older one.
   */
  void attach(SocketChannel ch) {
    Connection c = new Connection(ch);
    Connection old;
    lock.lock();
    try {
      if (closedWhy != null) {
        Frames.closeQuietly(ch);
        return;
      }
      old = current;
      current = c;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (old != null) {
      Frames.closeQuietly(old.ch);
    }
    try {
      FrameDecoder d = new FrameDecoder();
      while (d.readFrom(ch, 65536) >= 0) {
        for (Frame f = d.next(); f != null; f = d.next()) {
          if (!handle(c, f)) {
            return;
          }
        }
      }
    } catch (IOException e) {
      // the connection died: its sessions fail below
    } finally {
      end(c, guestExited.getAsBoolean() ? VM_STOPPED : CHANNEL_CLOSED);
      Frames.closeQuietly(ch);
    }
  }

  /** One frame from the guest; false ends the connection (a HELLO of another VM or channel). */
  private boolean handle(Connection c, Frame f) {
    Frame reply = null;
    lock.lock();
    try {
      switch (f) {
        case Frame.Hello h -> {
          if (!GuestLink.acceptHello(h, Channel.SESSION, vmId, stats)) {
            return false;
          }
          if (c.ready) {
            // init saw a reconnect we did not (virtio-serial): its side started afresh
            c.mainCredit = INITIAL_WINDOW;
            c.sessions.values().forEach(s -> s.end(lost(CHANNEL_CLOSED), true));
            c.sessions.clear();
          }
          c.ready = true;
          changed.signalAll();
        }
        case Frame.Window w when w.session() == 0 && w.stream() == Frame.Data.STDIN -> {
          c.mainCredit += w.bytes();
          changed.signalAll();
        }
        case Frame.Window w when w.stream() == Frame.Data.STDIN -> {
          Session s = c.sessions.get(w.session());
          if (s != null) {
            s.stdinCredit += w.bytes();
            s.cond.signalAll();
          }
        }
        case Frame.Started st -> {
          Session s = c.sessions.get(st.session());
          if (s != null) {
            s.pid = st.pid();
            s.started.complete(st.pid());
          }
        }
        case Frame.Data data -> {
          Session s = c.sessions.get(data.session());
          if (s != null) {
            reply = s.received(data);
          }
        }
        case Frame.Eof e -> {
          Session s = c.sessions.get(e.session());
          if (s != null && (e.stream() == Frame.Data.STDOUT || e.stream() == Frame.Data.STDERR)) {
            s.eof[e.stream()] = true;
            s.cond.signalAll();
          }
        }
        case Frame.Closed cl -> {
          Session s = c.sessions.remove(cl.session());
          if (s != null) {
            s.end(cl.report(), false);
          }
        }
        default -> stats.unexpectedFrames.increment();
      }
    } finally {
      lock.unlock();
    }
    if (reply != null) {
      c.sendQuietly(reply);
    }
    return true;
  }

  /** The connection ended: its exec sessions end with 137 and {@code why}. */
  private void end(Connection c, String why) {
    lock.lock();
    try {
      c.ended = true;
      if (current == c) {
        current = null;
      }
      for (Session s : c.sessions.values()) {
        s.end(lost(why), true);
      }
      c.sessions.clear();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private static ExitReport lost(String why) {
    long now = System.currentTimeMillis() * 1_000_000L;
    return new ExitReport(137, 9, false, 0, now, why);
  }

  /**
   * The connection, once init said HELLO on it; dials one on vsock when there is none.
   *
   * @param deadline System.nanoTime() to give up at, or 0 to wait until the VM is gone
   */
  private Connection awaitReady(long deadline) throws IOException, InterruptedException {
    while (true) {
      lock.lock();
      try {
        if (closedWhy != null) {
          throw new IOException(closedWhy);
        }
        if (current != null && current.ready) {
          return current;
        }
        boolean mustDial = dialer != null && current == null && !dialing;
        if (!mustDial) {
          if (deadline == 0) {
            changed.await();
          } else {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
              throw new IOException(
                  current == null
                      ? "init has not connected its session channel (is the guest up, and does"
                          + " its init speak session extension 1?)"
                      : "init has not said HELLO on the session channel");
            }
            changed.awaitNanos(left);
          }
          continue;
        }
        dialing = true;
      } finally {
        lock.unlock();
      }
      dial(deadline);
    }
  }

  private void dial(long deadline) throws IOException, InterruptedException {
    try {
      long until = deadline == 0 ? System.nanoTime() + connectTimeout.toNanos() : deadline;
      SocketChannel ch;
      try {
        ch = dialer.dial(until);
      } catch (IOException e) {
        if (deadline == 0) {
          return; // waiting until the VM is gone: try again
        }
        throw e;
      }
      Thread.ofVirtual().name("kiln-session").start(() -> attach(ch));
      lock.lock();
      try {
        // the reader thread installs the connection; a HELLO then makes it ready
        while (closedWhy == null && (current == null || current.ch != ch) && isOpen(ch)) {
          changed.awaitNanos(10_000_000);
        }
      } finally {
        lock.unlock();
      }
    } finally {
      lock.lock();
      try {
        dialing = false;
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  private static boolean isOpen(SocketChannel ch) {
    return ch.isOpen();
  }

  private long openDeadline() {
    return System.nanoTime() + connectTimeout.toNanos();
  }

  @Override
  public OutputStream mainStdin() {
    return mainStdin;
  }

  @Override
  public void resizeMain(int rows, int cols) throws IOException {
    Frame.Resize r = new Frame.Resize(0, rows, cols);
    try {
      awaitReady(openDeadline()).send(r);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for the session channel", e);
    }
  }

  @Override
  public ExecProcess open(ExecRequest request)
      throws IOException, InterruptedException, ExecStartException {
    Connection c = awaitReady(openDeadline());
    Session s;
    lock.lock();
    try {
      if (c.ended) {
        throw new IOException(closedWhy != null ? closedWhy : CHANNEL_CLOSED);
      }
      s = new Session(c, c.nextSession++, request);
      c.sessions.put(s.id, s);
    } finally {
      lock.unlock();
    }
    c.send(new Frame.Open(s.id, request.toJson()));
    try {
      s.started.get();
      return s;
    } catch (ExecutionException e) {
      switch (e.getCause()) {
        case ExecStartException x -> throw new ExecStartException(x.report());
        case IOException x -> throw new IOException(x.getMessage(), x);
        default -> throw new IOException(e.getCause().getMessage(), e.getCause());
      }
    } catch (InterruptedException e) {
      s.close(); // nobody will read it: let it run without stalling on us
      throw e;
    }
  }

  /**
   * The VM is gone: every session ends with 137 and "the VM stopped", stdin writes fail, and no
   * connection is accepted any more.
   */
  void close() {
    Connection c;
    lock.lock();
    try {
      if (closedWhy != null) {
        return;
      }
      closedWhy = VM_STOPPED;
      c = current;
      current = null;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (c != null) {
      end(c, VM_STOPPED);
      Frames.closeQuietly(c.ch);
    }
  }

  /** Session 0's stdin: blocks until connected and granted credit; close sends EOF once. */
  private final class MainStdin extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      mainWriters.lock();
      try {
        while (len > 0) {
          Connection c = awaitReady(0);
          int n;
          lock.lock();
          try {
            while (c.mainCredit == 0 && !c.ended && closedWhy == null) {
              changed.await();
            }
            if (closedWhy != null) {
              throw new IOException(closedWhy);
            }
            if (c.ended || mainEofSent) {
              if (mainEofSent) {
                throw new IOException("the main process's stdin was closed");
              }
              continue; // wait for the next connection: its credit starts afresh
            }
            n = (int) Math.min(Math.min(len, c.mainCredit), Frame.Data.MAX_DATA);
            c.mainCredit -= n;
          } finally {
            lock.unlock();
          }
          try {
            c.send(new Frame.Data(0, Frame.Data.STDIN, Arrays.copyOfRange(b, off, off + n)));
          } catch (IOException e) {
            // stdin is at-most-once across a reconnect (PROTOCOL.md §10): the chunk may be lost
          }
          off += n;
          len -= n;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while writing stdin");
      } finally {
        mainWriters.unlock();
      }
    }

    @Override
    public void close() throws IOException {
      mainWriters.lock();
      try {
        while (true) {
          Connection c = awaitReady(0);
          lock.lock();
          try {
            if (mainEofSent) {
              return;
            }
            mainEofSent = true;
          } finally {
            lock.unlock();
          }
          try {
            c.send(new Frame.Eof(0, Frame.Data.STDIN));
            return;
          } catch (IOException e) {
            lock.lock();
            try {
              mainEofSent = false; // not delivered: send it on the next connection
            } finally {
              lock.unlock();
            }
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while closing stdin");
      } finally {
        mainWriters.unlock();
      }
    }
  }

  /** One exec session (also archive, stat and top). State is guarded by the client's lock. */
  private final class Session implements ExecProcess {
    final Connection conn;
    final int id;
    final ExecRequest request;
    final Condition cond = lock.newCondition();
    final CompletableFuture<Integer> started = new CompletableFuture<>();
    final CompletableFuture<ExitReport> exit = new CompletableFuture<>();
    final ArrayDeque<Output> buffer = new ArrayDeque<>();

    /** The credit the guest still has on streams 1 and 2 (index = stream). */
    final long[] credit = {0, INITIAL_WINDOW, INITIAL_WINDOW};

    final boolean[] eof = new boolean[3];
    volatile int pid;
    boolean ended;
    boolean discarding;
    long stdinCredit = INITIAL_WINDOW;
    boolean stdinClosed;
    final OutputStream stdin = new SessionStdin();

    Session(Connection conn, int id, ExecRequest request) {
      this.conn = conn;
      this.id = id;
      this.request = request;
    }

    /** A DATA frame for this session; returns the WINDOW to send back, if any. */
    Frame received(Frame.Data d) {
      int stream = d.stream();
      int len = d.data().length;
      if ((stream != Frame.Data.STDOUT && stream != Frame.Data.STDERR) || len == 0) {
        stats.unexpectedFrames.increment();
        return null;
      }
      if (len > credit[stream]) {
        // beyond the credit: a protocol error, discarded (PROTOCOL.md §10)
        stats.discardedBytes.add(len);
        return null;
      }
      if (discarding || ended) {
        return new Frame.Window(id, stream, len); // the credit goes straight back
      }
      credit[stream] -= len;
      buffer.add(new Output(stream, d.data()));
      cond.signalAll();
      return null;
    }

    /**
     * CLOSED (lost false), or a lost connection or the VM gone (lost true: an open that waits fails
     * with an IOException, not as a start failure). Caller holds the lock.
     */
    void end(ExitReport report, boolean lost) {
      ended = true;
      if (!started.isDone()) {
        started.completeExceptionally(
            lost ? new IOException(report.error()) : new ExecStartException(report));
      }
      exit.complete(report);
      cond.signalAll();
    }

    private boolean outputDone() {
      boolean tty = request instanceof ExecRequest.Command c && c.tty();
      return ended || discarding || (eof[1] && (tty || eof[2]));
    }

    @Override
    public int session() {
      return id;
    }

    @Override
    public int pid() {
      return pid;
    }

    @Override
    public OutputStream stdin() {
      return stdin;
    }

    @Override
    public Output read() throws IOException, InterruptedException {
      Output o;
      boolean grant;
      lock.lock();
      try {
        while (buffer.isEmpty() && !outputDone()) {
          cond.await();
        }
        o = buffer.poll();
        if (o == null) {
          return null;
        }
        credit[o.stream()] += o.bytes().length;
        grant = !ended; // after CLOSED the guest forgot the session
      } finally {
        lock.unlock();
      }
      if (grant) {
        // the bytes were taken: the guest may send as much again
        conn.sendQuietly(new Frame.Window(id, o.stream(), o.bytes().length));
      }
      return o;
    }

    @Override
    public void resize(int rows, int cols) throws IOException {
      send(new Frame.Resize(id, rows, cols));
    }

    @Override
    public void signal(int signal) throws IOException {
      send(new Frame.Signal(id, signal));
    }

    /**
     * A frame for a session that may have ended meanwhile (then it is dropped, as the guest would).
     */
    private void send(Frame f) throws IOException {
      lock.lock();
      try {
        if (ended) {
          return;
        }
      } finally {
        lock.unlock();
      }
      conn.send(f);
    }

    @Override
    public CompletableFuture<ExitReport> exit() {
      return exit;
    }

    @Override
    public void close() {
      List<Frame> grants = new ArrayList<>();
      lock.lock();
      try {
        if (discarding) {
          return;
        }
        discarding = true;
        long[] dropped = new long[3];
        for (Output o : buffer) {
          dropped[o.stream()] += o.bytes().length;
        }
        buffer.clear();
        for (int s = 1; s <= 2; s++) {
          if (dropped[s] > 0 && !ended) {
            credit[s] += dropped[s];
            grants.add(new Frame.Window(id, s, dropped[s]));
          }
        }
        cond.signalAll();
      } finally {
        lock.unlock();
      }
      grants.forEach(conn::sendQuietly);
    }

    /** This session's stream 0: writes wait for the guest's credit; close sends EOF. */
    private final class SessionStdin extends OutputStream {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (!request.readsStdin()) {
          throw new IOException("session " + id + " was opened without stdin");
        }
        while (len > 0) {
          int n;
          lock.lock();
          try {
            while (stdinCredit == 0 && !ended && !stdinClosed) {
              cond.await();
            }
            if (stdinClosed) {
              throw new IOException("stdin of session " + id + " is closed");
            }
            if (ended) {
              throw new IOException(
                  "session "
                      + id
                      + " ended"
                      + (exit.isDone() && exit.join().error() != null
                          ? ": " + exit.join().error()
                          : ""));
            }
            n = (int) Math.min(Math.min(len, stdinCredit), Frame.Data.MAX_DATA);
            stdinCredit -= n;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while writing stdin");
          } finally {
            lock.unlock();
          }
          conn.send(new Frame.Data(id, Frame.Data.STDIN, Arrays.copyOfRange(b, off, off + n)));
          off += n;
          len -= n;
        }
      }

      @Override
      public void close() throws IOException {
        lock.lock();
        try {
          if (stdinClosed || !request.readsStdin()) {
            return;
          }
          stdinClosed = true;
          cond.signalAll();
          if (ended) {
            return;
          }
        } finally {
          lock.unlock();
        }
        conn.send(new Frame.Eof(id, Frame.Data.STDIN));
      }
    }
  }
}
