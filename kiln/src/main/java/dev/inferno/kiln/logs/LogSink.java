package dev.inferno.kiln.logs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Forwards log records to an external collector as NDJSON over a unix stream socket (e.g.
 * vector.dev's {@code socket} source with {@code mode = "unix_stream"} and newline-delimited JSON).
 * One line per record:
 *
 * <pre>
 * {"vm_id":"…","vm_name":"…","stream":"stdout","timestamp":"2026-11-28T19:00:00.123456789Z",
 *  "guest_timestamp":"…","seq":1,"boot_id":"…","message":"the line without its newline"}
 * </pre>
 *
 * It never blocks the VM: {@link #follow} reads durable records from the store, and {@link #offer}
 * puts lines in a bounded queue, dropping (and counting) what does not fit while the collector is
 * slow or away. A sender thread connects, reconnects with backoff (50 ms doubling to 5 s) and
 * writes.
 */
public final class LogSink implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(LogSink.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path socket;
  private final BlockingQueue<byte[]> queue;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong connects = new AtomicLong();
  private final AtomicLong queued = new AtomicLong();
  private final Set<Thread> followers = ConcurrentHashMap.newKeySet();
  private final Thread sender;
  private volatile boolean closed;
  private volatile SocketChannel current;

  /** Starts forwarding to {@code socket} with room for {@code capacity} lines. */
  public LogSink(Path socket, int capacity) {
    this.socket = socket;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.sender = Thread.ofVirtual().name("kiln-log-sink").start(this::sendLoop);
  }

  /** Queues one record's line; false (and counted as dropped) when the queue is full. */
  public boolean offer(String vmId, String vmName, LogRecord r) {
    if (closed) {
      return false;
    }
    boolean ok = queue.offer(line(vmId, vmName, r));
    if (ok) {
      queued.incrementAndGet();
    } else {
      dropped.incrementAndGet();
    }
    return ok;
  }

  /**
   * Forwards every record that becomes durable in {@code store} from now on, on a virtual thread,
   * until this sink or the store is closed.
   */
  public Thread follow(LogStore store, String vmId, String vmName) {
    // the cursor is placed now, not when the thread runs: records made durable right after this
    // call are forwarded too
    LogCursor cursor = store.tailCursor(0);
    Thread t =
        Thread.ofVirtual()
            .name("kiln-log-sink-follow")
            .unstarted(() -> {
              try (LogCursor c = cursor) {
                while (!closed) {
                  boolean last =
                      store.isClosed(); // once closed, what is durable is still forwarded
                  LogRecord r = c.next(Duration.ofMillis(500));
                  if (r != null) {
                    offer(vmId, vmName, r);
                  } else if (last) {
                    break;
                  }
                }
              } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "log forwarding stopped: {0}", e.toString());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                followers.remove(Thread.currentThread());
              }
            });
    followers.add(t);
    t.start();
    return t;
  }

  /** Lines dropped because the queue was full. */
  public long dropped() {
    return dropped.get();
  }

  /** Lines written to the collector. */
  public long sent() {
    return sent.get();
  }

  /** Successful connections to the collector so far. */
  public long connects() {
    return connects.get();
  }

  static byte[] line(String vmId, String vmName, LogRecord r) {
    ObjectNode o = JSON.createObjectNode();
    o.put("vm_id", vmId);
    o.put("vm_name", vmName);
    o.put("stream", r.streamName());
    o.put("timestamp", rfc3339(r.hostTimeNs()));
    o.put("guest_timestamp", rfc3339(r.guestTimeNs()));
    o.put("seq", Long.toUnsignedString(r.seq()));
    o.put("boot_id", Long.toHexString(r.bootId()));
    String text = r.text();
    o.put("message", text.endsWith("\n") ? text.substring(0, text.length() - 1) : text);
    try {
      return (JSON.writeValueAsString(o) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode a log line", e);
    }
  }

  static String rfc3339(long epochNs) {
    return Instant.ofEpochSecond(
            Math.floorDiv(epochNs, 1_000_000_000L), Math.floorMod(epochNs, 1_000_000_000L))
        .toString();
  }

  private void sendLoop() {
    long backoffMs = 50;
    byte[] pendingLine = null;
    while (!closed) {
      SocketChannel ch;
      try {
        ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
      } catch (IOException e) {
        if (!sleep(backoffMs)) {
          return;
        }
        backoffMs = Math.min(backoffMs * 2, 5000);
        continue;
      }
      current = ch;
      connects.incrementAndGet();
      backoffMs = 50;
      try (ch) {
        while (!closed) {
          byte[] l = pendingLine != null ? pendingLine : queue.poll(200, TimeUnit.MILLISECONDS);
          if (l == null) {
            continue;
          }
          pendingLine = l; // kept until written, so a reconnect resends the line that failed
          ByteBuffer b = ByteBuffer.wrap(l);
          while (b.hasRemaining()) {
            ch.write(b);
          }
          pendingLine = null;
          sent.incrementAndGet();
        }
      } catch (IOException e) {
        LOG.log(System.Logger.Level.DEBUG, "log sink connection lost: {0}", e.toString());
      } catch (InterruptedException e) {
        return;
      } finally {
        current = null;
      }
    }
  }

  private boolean sleep(long ms) {
    try {
      Thread.sleep(ms);
      return !closed;
    } catch (InterruptedException e) {
      return false;
    }
  }

  /**
   * Closes after giving the lines already made durable a chance to go out: waits (at most {@code
   * grace} in all) for the followers of closed stores to read their last records and for the queue
   * to be written. For a process about to exit ({@code kiln --config}); a daemon just closes.
   */
  public void close(Duration grace) {
    long deadline = System.nanoTime() + grace.toNanos();
    try {
      for (Thread t : followers) {
        long left = deadline - System.nanoTime();
        if (left > 0) {
          t.join(Duration.ofNanos(left));
        }
      }
      while (sent.get() < queued.get() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    close();
  }

  /** Stops sending; lines still queued are discarded. */
  @Override
  public void close() {
    closed = true;
    SocketChannel ch = current;
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException e) {
        // closing
      }
    }
    sender.interrupt();
    try {
      sender.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
