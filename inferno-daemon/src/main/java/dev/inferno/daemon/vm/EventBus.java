package dev.inferno.daemon.vm;

import dev.inferno.model.Event;
import dev.inferno.model.ExitRecord;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * VM, image and volume events, numbered from 1 since daemon start; keeps the last {@value #HISTORY}
 * so a subscriber can start from a sequence number without missing what happened just before.
 */
public final class EventBus {
  static final int HISTORY = 1000;
  private static final int QUEUE = 10_000;

  private final ArrayDeque<Event> history = new ArrayDeque<>();
  private final List<Subscription> subscribers = new CopyOnWriteArrayList<>();
  private long seq;
  private boolean closed;

  /** Told every event as it is published, in order (observe's counters): they must be quick. */
  private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();

  /** Calls {@code listener} with every event from now on, on the publishing thread. */
  public void listen(Consumer<Event> listener) {
    listeners.add(listener);
  }

  /** Wakes subscribers when the daemon shuts down. */
  private static final Event SHUTDOWN = new Event(-1, "shutdown", "", null, Instant.EPOCH, null);

  /** Ends every subscription: their next() throws; new subscriptions are refused. */
  public synchronized void shutdown() {
    closed = true;
    for (Subscription s : subscribers) {
      s.queue.poll();
      s.queue.offer(SHUTDOWN);
    }
  }

  public Event publish(String type, String id, String name, ExitRecord exit) {
    return publish(type, id, name, exit, null);
  }

  /** As above, with attributes (volume events: driver, vm, destination, rw). */
  public synchronized Event publish(
      String type, String id, String name, ExitRecord exit, Map<String, String> attributes) {
    Event e = new Event(++seq, type, id, name, Instant.now(), exit, attributes);
    history.addLast(e);
    if (history.size() > HISTORY) {
      history.removeFirst();
    }
    listeners.forEach(l -> l.accept(e));
    for (Subscription s : subscribers) {
      if (!s.queue.offer(e)) {
        s.overflowed = true;
      }
    }
    return e;
  }

  /** Subscribes to events with seq &gt; since (those still in the history first). */
  public synchronized Subscription subscribe(long since) {
    if (closed) {
      throw new ApiException(503, "the daemon is shutting down");
    }
    Subscription s = new Subscription();
    for (Event e : history) {
      if (e.seq() > since) {
        s.queue.add(e);
      }
    }
    subscribers.add(s);
    return s;
  }

  /** A subscriber's queue; close it when done. */
  public final class Subscription implements AutoCloseable {
    private final LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>(QUEUE);
    private volatile boolean overflowed;

    /** The next event, or null after the timeout. */
    @SuppressWarnings("ReferenceEquality") // SHUTDOWN is a sentinel: that very instance
    public Event next(long timeoutMillis) throws InterruptedException {
      if (overflowed) {
        throw new IllegalStateException("event subscriber fell more than " + QUEUE + " behind");
      }
      Event e = queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
      if (e == SHUTDOWN) {
        throw new ApiException(503, "the daemon is shutting down");
      }
      return e;
    }

    @Override
    public void close() {
      subscribers.remove(this);
    }
  }
}
