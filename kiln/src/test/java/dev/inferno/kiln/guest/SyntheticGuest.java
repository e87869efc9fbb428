package dev.inferno.kiln.guest;

import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.protocol.Codec;
import dev.inferno.kiln.protocol.Frame;
import dev.inferno.kiln.protocol.FrameDecoder;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * A test peer that plays init's side of the logs channel the way QEMU/Firecracker would deliver it:
 * a unix socket client that says HELLO, sends LOG frames, keeps what is not acked, and after a
 * reconnect resends it oldest first.
 */
final class SyntheticGuest implements AutoCloseable {
  final Path socket;
  final long boot;
  final String vmId;
  private final Object lock = new Object();
  private final ArrayDeque<long[]> unackedSeqs = new ArrayDeque<>();
  private final ArrayDeque<byte[]> unacked = new ArrayDeque<>();
  private SocketChannel ch;
  private long acked;
  private long nextSeq = 1;
  int connects;

  SyntheticGuest(Path socket, long boot, String vmId) {
    this.socket = socket;
    this.boot = boot;
    this.vmId = vmId;
  }

  /**
   * Connects (retrying while nothing listens), sends {@code prefix} raw, HELLO, then every unacked
   * frame.
   */
  void connect(byte[] prefix, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    SocketChannel c;
    while (true) {
      c = SocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        c.connect(UnixDomainSocketAddress.of(socket));
        break;
      } catch (IOException e) {
        c.close();
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(20);
      }
    }
    SocketChannel conn = c;
    connects++;
    writeAll(conn, prefix);
    writeAll(conn, Codec.encode(new Frame.Hello(Channel.LOGS.id(), boot, vmId)));
    List<byte[]> resend;
    synchronized (lock) {
      ch = conn;
      resend = new ArrayList<>(unacked);
    }
    for (byte[] f : resend) {
      writeAll(conn, f);
    }
    Thread.ofVirtual().start(() -> readAcks(conn));
  }

  private void readAcks(SocketChannel c) {
    FrameDecoder d = new FrameDecoder();
    ByteBuffer buf = ByteBuffer.allocate(4096);
    try {
      while (c.read(buf) >= 0) {
        buf.flip();
        d.feed(buf);
        buf.clear();
        for (Frame f = d.next(); f != null; f = d.next()) {
          if (f instanceof Frame.Ack a) {
            synchronized (lock) {
              if (a.seq() > acked) {
                acked = a.seq();
              }
              while (!unackedSeqs.isEmpty() && unackedSeqs.peek()[0] <= acked) {
                unackedSeqs.poll();
                unacked.poll();
              }
              lock.notifyAll();
            }
          }
        }
      }
    } catch (IOException e) {
      // connection gone
    }
  }

  /** The frame for the next seq, registered as unacked. */
  byte[] nextFrame(int stream, byte[] data) {
    long seq;
    byte[] f;
    synchronized (lock) {
      seq = nextSeq++;
      f = Codec.encode(new Frame.Log(seq, 1_000_000_000L * seq, stream, data));
      unackedSeqs.add(new long[] {seq});
      unacked.add(f);
    }
    return f;
  }

  /**
   * Sends one LOG frame; returns its seq. On a broken connection the frame stays unacked for the
   * resend.
   */
  long send(int stream, byte[] data) {
    byte[] f = nextFrame(stream, data);
    try {
      writeAll(current(), f);
    } catch (IOException e) {
      // resent after the next connect
    }
    return nextSeq - 1;
  }

  /**
   * Sends the next frame only up to {@code cut} bytes and kills the connection; returns the rest of
   * the frame's bytes (virtio-serial may deliver them on the next connection).
   */
  byte[] sendCutAndDrop(int stream, byte[] data, int cut) throws IOException {
    byte[] f = nextFrame(stream, data);
    int n = Math.min(cut, f.length - 1);
    writeAll(current(), Arrays.copyOf(f, n));
    current().close();
    return Arrays.copyOfRange(f, n, f.length);
  }

  /** Registers the next frame as sent but loses it on the way (it stays unacked for the resend). */
  long lose(int stream, byte[] data) {
    nextFrame(stream, data);
    return nextSeq - 1;
  }

  void drop() throws IOException {
    current().close();
  }

  long acked() {
    synchronized (lock) {
      return acked;
    }
  }

  long lastSeq() {
    synchronized (lock) {
      return nextSeq - 1;
    }
  }

  void awaitAcked(long seq, Duration timeout) throws InterruptedException, TimeoutException {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    synchronized (lock) {
      while (acked < seq) {
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) {
          throw new TimeoutException("acked " + acked + ", waiting for " + seq);
        }
        lock.wait(left);
      }
    }
  }

  private SocketChannel current() {
    synchronized (lock) {
      return ch;
    }
  }

  static void writeAll(SocketChannel c, byte[] b) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(b);
    while (buf.hasRemaining()) {
      c.write(buf);
    }
  }

  @Override
  public void close() throws IOException {
    SocketChannel c = current();
    if (c != null) {
      c.close();
    }
  }
}
