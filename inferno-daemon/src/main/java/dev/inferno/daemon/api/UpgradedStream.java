package dev.inferno.daemon.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.FutureCallback;

/**
 * The connection a request upgraded to ({@code 101}, {@code Upgrade: tcp}): Jetty hands it the
 * socket once the 101 went out. A small blocking facade over Jetty's asynchronous end point for the
 * virtual thread that serves the stream: {@link #input()} reads what the client sends (-1 after its
 * half-close, while {@link #output()} still writes), {@link #output()} writes through to the
 * socket. Reads and writes may run on two threads at once.
 */
public final class UpgradedStream extends AbstractConnection implements Connection.UpgradeTo {
  private final CompletableFuture<Void> opened = new CompletableFuture<>();
  private final ReentrantLock writeLock = new ReentrantLock();
  private ByteBuffer prefilled;

  public UpgradedStream(EndPoint endPoint, Executor executor) {
    super(endPoint, executor);
  }

  /** Bytes the client sent right behind its request, read by the HTTP parser already. */
  @Override
  public void onUpgradeTo(ByteBuffer buffer) {
    if (buffer != null && buffer.hasRemaining()) {
      ByteBuffer copy = ByteBuffer.allocate(buffer.remaining());
      copy.put(buffer).flip();
      prefilled = copy;
    }
  }

  @Override
  public void onOpen() {
    super.onOpen();
    opened.complete(null);
  }

  @Override
  public void onClose(Throwable cause) {
    super.onClose(cause);
    opened.completeExceptionally(new IOException("the connection closed before the upgrade"));
  }

  /** Reads go through {@link #input()}, which asks for fill interest itself. */
  @Override
  public void onFillable() {}

  /** Waits until Jetty switched the socket over (the 101 is out). */
  public void awaitOpen(long timeoutMillis) throws IOException, InterruptedException {
    try {
      opened.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IOException(e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("the upgrade did not happen within " + timeoutMillis + " ms", e);
    }
  }

  /** Blocking read: up to len bytes, -1 once the client shut its output (or the socket closed). */
  int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    ByteBuffer pre = prefilled;
    if (pre != null) {
      int n = Math.min(len, pre.remaining());
      pre.get(b, off, n);
      if (!pre.hasRemaining()) {
        prefilled = null;
      }
      return n;
    }
    // fill appends between limit and capacity: a slice of exactly len, in flush mode, empty
    ByteBuffer buf = ByteBuffer.wrap(b, off, len).slice().limit(0);
    while (true) {
      int n = getEndPoint().fill(buf);
      if (n != 0) {
        return n;
      }
      FutureCallback ready = new FutureCallback();
      getEndPoint().fillInterested(ready);
      await(ready);
    }
  }

  void write(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return;
    }
    writeLock.lock();
    try {
      FutureCallback done = new FutureCallback();
      getEndPoint().write(done, ByteBuffer.wrap(b, off, len));
      await(done);
    } finally {
      writeLock.unlock();
    }
  }

  private static void await(FutureCallback f) throws IOException {
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw c instanceof IOException io ? io : new IOException(String.valueOf(c), c);
    }
  }

  /** What the client sends; -1 after its half-close. */
  public InputStream input() {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = UpgradedStream.this.read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return UpgradedStream.this.read(b, off, len);
      }
    };
  }

  /** To the client, unbuffered; {@code close} shuts the output (the client reads end of file). */
  public OutputStream output() {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        UpgradedStream.this.write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        UpgradedStream.this.write(b, off, len);
      }

      @Override
      public void close() {
        getEndPoint().shutdownOutput();
      }
    };
  }

  /** Ends the connection both ways (a detach, or the stream is over). */
  @Override
  public void close() {
    getEndPoint().close();
  }
}
