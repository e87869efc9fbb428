package dev.inferno.kiln.guest;

import dev.inferno.kiln.protocol.Codec;
import dev.inferno.kiln.protocol.Frame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Writing whole frames to a socket. */
final class Frames {
  private Frames() {}

  static void write(SocketChannel ch, Frame f) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Codec.encode(f));
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      // closing on an error path: the first error is the one that matters
    }
  }
}
