package dev.inferno.kiln.guest;

import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.protocol.ControlReply;
import dev.inferno.kiln.protocol.ControlRequest;
import dev.inferno.kiln.protocol.Frame;
import dev.inferno.kiln.protocol.FrameDecoder;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The host side of the control channel. A connection becomes usable once init's HELLO arrived on it
 * (before that, virtio-serial drops what the host writes). Requests are sent one at a time; replies
 * come back in order.
 */
@SuppressWarnings("ReferenceEquality") // connections are compared by identity on purpose
final class ControlClient {
  /**
   * Opens a control connection (vsock: CONNECT/OK through Firecracker), retrying until the
   * deadline.
   */
  interface Dialer {
    SocketChannel dial(long deadlineNanos) throws IOException, InterruptedException;
  }

  private final String vmId;
  private final LinkStats stats;
  private final Dialer dialer;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ReentrantLock requestLock = new ReentrantLock();
  private final ArrayDeque<CompletableFuture<ControlReply>> pending = new ArrayDeque<>();
  private SocketChannel current;
  private boolean ready;
  private boolean closed;

  ControlClient(String vmId, LinkStats stats, Dialer dialer) {
    this.vmId = vmId;
    this.stats = stats;
    this.dialer = dialer;
  }

  /**
   * Serves a control connection until it ends (on the caller's thread); a newer connection replaces
   * an older one.
   */
  void attach(SocketChannel ch) {
    SocketChannel old;
    lock.lock();
    try {
      if (closed) {
        Frames.closeQuietly(ch);
        return;
      }
      old = current;
      current = ch;
      ready = false;
      failPending("the control connection was replaced by a new one");
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    Frames.closeQuietly(old);
    try {
      FrameDecoder d = new FrameDecoder();
      while (d.readFrom(ch, 8192) >= 0) {
        for (Frame f = d.next(); f != null; f = d.next()) {
          switch (f) {
            case Frame.Hello h -> {
              if (!GuestLink.acceptHello(h, Channel.CONTROL, vmId, stats)) {
                return;
              }
              lock.lock();
              try {
                if (current == ch) {
                  ready = true;
                  changed.signalAll();
                }
              } finally {
                lock.unlock();
              }
            }
            case Frame.Reply r -> {
              CompletableFuture<ControlReply> p;
              lock.lock();
              try {
                p = current == ch ? pending.poll() : null;
              } finally {
                lock.unlock();
              }
              if (p != null) {
                p.complete(r.reply());
              } else {
                stats.unexpectedFrames.increment();
              }
            }
            default -> stats.unexpectedFrames.increment();
          }
        }
      }
    } catch (IOException e) {
      // the connection died: requests in flight fail below, the next request waits for a new one
    } finally {
      lock.lock();
      try {
        if (current == ch) {
          current = null;
          ready = false;
          failPending("the control connection closed before init replied");
          changed.signalAll();
        }
      } finally {
        lock.unlock();
      }
      Frames.closeQuietly(ch);
    }
  }

  /**
   * Sends one request and waits for init's reply. A request caught by a connection that died or was
   * replaced is sent again on the next connection while time remains (init could not have answered
   * it there).
   */
  ControlReply request(ControlRequest req, Duration timeout)
      throws ControlException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    requestLock.lock();
    try {
      while (true) {
        try {
          return attempt(req, timeout, deadline);
        } catch (LostConnection e) {
          if (deadline - System.nanoTime() <= 0) {
            throw new ControlException(
                "cannot deliver " + req.op() + " to init: " + e.getMessage(), e);
          }
        }
      }
    } finally {
      requestLock.unlock();
    }
  }

  private ControlReply attempt(ControlRequest req, Duration timeout, long deadline)
      throws ControlException, InterruptedException, LostConnection {
    SocketChannel ch = awaitReady(deadline);
    CompletableFuture<ControlReply> reply = new CompletableFuture<>();
    lock.lock();
    try {
      if (current != ch || !ready) {
        throw new LostConnection("the control connection closed");
      }
      pending.add(reply);
    } finally {
      lock.unlock();
    }
    try {
      Frames.write(ch, new Frame.Control(req));
    } catch (IOException e) {
      Frames.closeQuietly(ch);
      throw new LostConnection(e.getMessage());
    }
    try {
      return reply.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new ControlException(
          "init did not answer " + req.op() + " within " + timeout.toMillis() + " ms");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof LostConnection l) {
        throw l;
      }
      throw new ControlException(e.getCause().getMessage(), e.getCause());
    }
  }

  /** The connection a request was sent on went away. */
  private static final class LostConnection extends Exception {
    private static final long serialVersionUID = 1L;

    LostConnection(String message) {
      super(message);
    }
  }

  private SocketChannel awaitReady(long deadline) throws ControlException, InterruptedException {
    while (true) {
      lock.lock();
      try {
        if (closed) {
          throw new ControlException("the guest link is closed");
        }
        if (current != null && ready) {
          return current;
        }
        if (dialer == null || current != null) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new ControlException(
                current == null
                    ? "init has not connected its control channel (is the guest up?)"
                    : "init has not said HELLO on the control channel");
          }
          changed.awaitNanos(left);
          continue;
        }
      } finally {
        lock.unlock();
      }
      SocketChannel ch;
      try {
        ch = dialer.dial(deadline);
      } catch (IOException e) {
        throw new ControlException(e.getMessage(), e);
      }
      Thread.ofVirtual().name("kiln-control").start(() -> attach(ch));
      lock.lock();
      try {
        while (current != ch && !closed && deadline - System.nanoTime() > 0) {
          changed.awaitNanos(Math.max(1, Math.min(deadline - System.nanoTime(), 10_000_000)));
        }
      } finally {
        lock.unlock();
      }
    }
  }

  private void failPending(String why) {
    for (CompletableFuture<ControlReply> p : pending) {
      p.completeExceptionally(closed ? new ControlException(why) : new LostConnection(why));
    }
    pending.clear();
  }

  void close() {
    SocketChannel ch;
    lock.lock();
    try {
      closed = true;
      ch = current;
      failPending("the guest link was closed");
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    Frames.closeQuietly(ch);
  }
}
