package dev.inferno.kiln.guest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.protocol.Codec;
import dev.inferno.kiln.protocol.Frame;
import dev.inferno.kiln.protocol.FrameDecoder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * init's end of one session-channel connection, driven by the test frame by frame: what kiln sent
 * is queued in order ({@link #next}), and the test answers with {@link #send}.
 */
final class FakeInitSession implements AutoCloseable {
  static final Duration T = Duration.ofSeconds(10);

  final SocketChannel ch;
  private final BlockingQueue<Frame> received = new LinkedBlockingQueue<>();

  FakeInitSession(SocketChannel ch) {
    this.ch = ch;
    Thread.ofVirtual()
        .start(() -> {
          FrameDecoder d = new FrameDecoder();
          ByteBuffer b = ByteBuffer.allocate(1 << 17);
          try {
            while (ch.read(b) >= 0) {
              b.flip();
              d.feed(b);
              b.clear();
              for (Frame f = d.next(); f != null; f = d.next()) {
                received.add(f);
              }
            }
          } catch (IOException e) {
            // closed
          }
        });
  }

  FakeInitSession hello(String vmId) throws IOException {
    return send(new Frame.Hello(Channel.SESSION.id(), 7, vmId));
  }

  FakeInitSession send(Frame f) throws IOException {
    SyntheticGuest.writeAll(ch, Codec.encode(f));
    return this;
  }

  /** The next frame kiln sent, which must be of {@code type}. */
  <F extends Frame> F next(Class<F> type) throws InterruptedException {
    Frame f = received.poll(T.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(f).as("a %s from kiln", type.getSimpleName()).isInstanceOf(type);
    return type.cast(f);
  }

  /** The next frame, or null when kiln sends nothing within {@code ms}. */
  Frame poll(long ms) throws InterruptedException {
    return received.poll(ms, TimeUnit.MILLISECONDS);
  }

  /** Bytes kiln sent as DATA on (session, stream 0) until {@code n} arrived. */
  byte[] stdin(int session, int n) throws InterruptedException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    while (out.size() < n) {
      Frame.Data d = next(Frame.Data.class);
      assertThat(d.session()).isEqualTo(session);
      assertThat(d.stream()).isZero();
      out.writeBytes(d.data());
    }
    return out.toByteArray();
  }

  @Override
  public void close() throws IOException {
    ch.close();
  }
}
