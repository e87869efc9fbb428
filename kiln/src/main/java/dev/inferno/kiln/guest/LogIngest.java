package dev.inferno.kiln.guest;

import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.protocol.Frame;
import dev.inferno.kiln.protocol.FrameDecoder;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Instant;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connection of the logs channel. The reading thread decodes and appends LOG frames (the store
 * drops init's resends of what it already holds); a committer thread forces the store once per
 * batch of appended frames and then sends one cumulative ACK, so reading never waits for the disk
 * and acks never precede durability.
 */
final class LogIngest {
  private static final System.Logger LOG = System.getLogger(LogIngest.class.getName());

  /**
   * Bytes asked for per read: the batch of frames behind one force and one ACK is at most about
   * this.
   */
  static final int READ_SIZE = 128 * 1024;

  private final SocketChannel ch;
  private final LogStore store;
  private final String vmId;
  private final LinkStats stats;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private boolean dirty;
  private boolean done;
  private boolean haveBoot;
  private long boot;

  /**
   * Remembers hang-ups for a hole in a boot's sequence across connections: when init's resend does
   * not fill the same hole after a few reconnects, the records are gone for good and waiting longer
   * would only stall the logs.
   */
  static final class Gaps {
    static final int MAX_RETRIES = 3;
    private long boot;
    private long after = -1;
    private int count;

    synchronized boolean giveUp(long boot, long after) {
      if (this.boot == boot && this.after == after) {
        count++;
      } else {
        this.boot = boot;
        this.after = after;
        count = 1;
      }
      return count > MAX_RETRIES;
    }
  }

  private final Gaps gaps;

  LogIngest(SocketChannel ch, LogStore store, String vmId, LinkStats stats, Gaps gaps) {
    this.gaps = gaps;
    this.ch = ch;
    this.store = store;
    this.vmId = vmId;
    this.stats = stats;
  }

  /** Serves the connection until it ends; runs on the connection's own (virtual) thread. */
  void run() {
    Thread committer = Thread.ofVirtual().name("kiln-logs-commit").start(this::commitLoop);
    try {
      readLoop();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "logs connection ended: {0}", e.toString());
    } finally {
      lock.lock();
      try {
        done = true;
        work.signalAll();
      } finally {
        lock.unlock();
      }
      try {
        committer.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Frames.closeQuietly(ch);
    }
  }

  private void readLoop() throws IOException {
    FrameDecoder decoder = new FrameDecoder();
    long discarded = 0;
    while (decoder.readFrom(ch, READ_SIZE) >= 0) {
      Instant now = Instant.now();
      long hostNs = now.getEpochSecond() * 1_000_000_000L + now.getNano();
      boolean appended = false;
      for (Frame f = decoder.next(); f != null; f = decoder.next()) {
        switch (f) {
          case Frame.Hello h -> {
            if (!GuestLink.acceptHello(h, Channel.LOGS, vmId, stats)) {
              return;
            }
            lock.lock();
            try {
              boot = h.bootId();
              haveBoot = true;
            } finally {
              lock.unlock();
            }
          }
          case Frame.Log l -> {
            if (!haveBoot) {
              stats.framesBeforeHello.increment();
              continue;
            }
            LogRecord r =
                new LogRecord(l.stream(), boot, l.seq(), l.guestTimeNs(), hostNs, l.data());
            switch (store.appendNext(r)) {
              case APPENDED -> {
                stats.logRecords.increment();
                stats.logBytes.add(l.data().length);
              }
              case DUPLICATE -> stats.logDuplicates.increment();
              case GAP -> {
                stats.logGaps.increment();
                if (gaps.giveUp(boot, store.lastSeq(boot))) {
                  // init no longer has what is missing (the store lost acked records): take what
                  // comes
                  LOG.log(
                      System.Logger.Level.ERROR,
                      "records after seq {0} of boot {1} are lost; accepting seq {2}",
                      Long.toUnsignedString(store.lastSeq(boot)),
                      Long.toHexString(boot),
                      Long.toUnsignedString(l.seq()));
                  store.append(r);
                  stats.logRecords.increment();
                  stats.logBytes.add(l.data().length);
                  appended = true;
                  continue;
                }
                // frames were lost on the way: hang up so that init resends from its oldest unacked
                // one
                LOG.log(
                    System.Logger.Level.WARNING,
                    "LOG seq {0} of boot {1} skips records kiln never got; reconnecting to get them",
                    Long.toUnsignedString(l.seq()),
                    Long.toHexString(boot));
                markDirty();
                return;
              }
            }
            appended = true;
          }
          default -> stats.unexpectedFrames.increment();
        }
      }
      stats.discardedBytes.add(decoder.discardedBytes() - discarded);
      discarded = decoder.discardedBytes();
      if (appended) {
        markDirty();
      }
    }
  }

  private void markDirty() {
    lock.lock();
    try {
      dirty = true;
      work.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void commitLoop() {
    try {
      while (true) {
        long b;
        lock.lock();
        try {
          while (!dirty && !done) {
            work.await();
          }
          if (!dirty) {
            return;
          }
          dirty = false;
          b = boot;
        } finally {
          lock.unlock();
        }
        long seq = store.lastSeq(b); // appended before the force below, hence durable after it
        store.force();
        if (seq != 0) {
          Frames.write(ch, new Frame.Ack(seq));
          stats.acks.increment();
        }
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "logs committer stopped: {0}", e.toString());
      Frames.closeQuietly(ch); // the reader sees the close; init resends what was not acked
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
