package dev.inferno.kiln.guest;

import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.protocol.Codec;
import dev.inferno.kiln.protocol.ControlReply;
import dev.inferno.kiln.protocol.Frame;
import dev.inferno.kiln.protocol.FrameDecoder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * init's side of the control channel: HELLO, then one reply per CONTROL (signal 10 has "no such
 * process").
 */
final class FakeInitControl {
  final SocketChannel ch;
  final List<String> seen = new CopyOnWriteArrayList<>();

  FakeInitControl(SocketChannel ch) {
    this.ch = ch;
  }

  void hello() throws IOException {
    SyntheticGuest.writeAll(
        ch, Codec.encode(new Frame.Hello(Channel.CONTROL.id(), 1, GuestLinkTest.VM)));
  }

  void serve() {
    FrameDecoder d = new FrameDecoder();
    ByteBuffer b = ByteBuffer.allocate(1024);
    try {
      while (ch.read(b) >= 0) {
        b.flip();
        d.feed(b);
        b.clear();
        for (Frame f = d.next(); f != null; f = d.next()) {
          if (f instanceof Frame.Control c) {
            String op = c.request().op();
            seen.add(op.equals("signal") ? "signal " + c.request().signal() : op);
            ControlReply r =
                Integer.valueOf(10).equals(c.request().signal())
                    ? ControlReply.failure("no such process")
                    : ControlReply.success();
            SyntheticGuest.writeAll(ch, Codec.encode(new Frame.Reply(r)));
          }
        }
      }
    } catch (IOException e) {
      // closed
    }
  }
}
