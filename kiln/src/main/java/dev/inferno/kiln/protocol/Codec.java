package dev.inferno.kiln.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Encodes frames (PROTOCOL.md §2) and parses payloads; {@link FrameDecoder} does the streaming
 * side.
 */
public final class Codec {
  /** "IF". */
  public static final int MAGIC0 = 0x49;

  public static final int MAGIC1 = 0x46;
  public static final int VERSION = 1;
  public static final int HEADER_SIZE = 16;
  public static final int MAX_PAYLOAD = 65536;

  private Codec() {}

  /** The frame's bytes, header and payload. */
  public static byte[] encode(Frame frame) {
    byte[] payload = payload(frame);
    byte[] out = new byte[HEADER_SIZE + payload.length];
    writeHeader(out, frame.type().code(), payload);
    System.arraycopy(payload, 0, out, HEADER_SIZE, payload.length);
    return out;
  }

  /** Appends the frame's bytes to {@code out} (which must have room for it). */
  public static void encode(Frame frame, ByteBuffer out) {
    out.put(encode(frame));
  }

  /** An encoded frame of any type code, known or not (for tests of forward compatibility). */
  public static byte[] encodeRaw(int typeCode, byte[] payload) {
    if (payload.length > MAX_PAYLOAD) {
      throw new ProtocolException(
          "payload of " + payload.length + " bytes is over the limit of " + MAX_PAYLOAD);
    }
    byte[] out = new byte[HEADER_SIZE + payload.length];
    writeHeader(out, typeCode, payload);
    System.arraycopy(payload, 0, out, HEADER_SIZE, payload.length);
    return out;
  }

  private static void writeHeader(byte[] out, int typeCode, byte[] payload) {
    ByteBuffer b = ByteBuffer.wrap(out);
    b.put((byte) MAGIC0).put((byte) MAGIC1).put((byte) VERSION).put((byte) typeCode);
    b.putInt(payload.length);
    b.putInt((int) crc(payload, 0, payload.length));
    b.putInt((int) crc(out, 0, 12));
  }

  static long crc(byte[] b, int off, int len) {
    CRC32 c = new CRC32();
    c.update(b, off, len);
    return c.getValue();
  }

  /** The payload of a frame. */
  public static byte[] payload(Frame frame) {
    byte[] p =
        switch (frame) {
          case Frame.Hello h -> {
            byte[] id = h.vmId().getBytes(StandardCharsets.UTF_8);
            yield ByteBuffer.allocate(9 + id.length)
                .put((byte) h.channel())
                .putLong(h.bootId())
                .put(id)
                .array();
          }
          case Frame.Log l -> {
            if (l.data().length > Frame.Log.MAX_DATA) {
              throw new ProtocolException(
                  "LOG data of " + l.data().length + " bytes is over " + Frame.Log.MAX_DATA);
            }
            yield ByteBuffer.allocate(17 + l.data().length)
                .putLong(l.seq())
                .putLong(l.guestTimeNs())
                .put((byte) l.stream())
                .put(l.data())
                .array();
          }
          case Frame.Ack a -> ByteBuffer.allocate(8).putLong(a.seq()).array();
          case Frame.Exit e -> utf8(Json.write(e.report()));
          case Frame.ExitAck ignored -> new byte[0];
          case Frame.Control c -> utf8(Json.write(c.request()));
          case Frame.Reply r -> utf8(Json.write(r.reply()));
          case Frame.Metrics m -> utf8(Json.write(m.metrics()));
          case Frame.Open o -> {
            byte[] json = utf8(o.json());
            yield ByteBuffer.allocate(4 + json.length).putInt(o.session()).put(json).array();
          }
          case Frame.Started st ->
              ByteBuffer.allocate(8).putInt(st.session()).putInt(st.pid()).array();
          case Frame.Data d -> {
            if (d.data().length > Frame.Data.MAX_DATA) {
              throw new ProtocolException(
                  "DATA of " + d.data().length + " bytes is over " + Frame.Data.MAX_DATA);
            }
            yield ByteBuffer.allocate(5 + d.data().length)
                .putInt(d.session())
                .put((byte) d.stream())
                .put(d.data())
                .array();
          }
          case Frame.Eof e ->
              ByteBuffer.allocate(5).putInt(e.session()).put((byte) e.stream()).array();
          case Frame.Window w ->
              ByteBuffer.allocate(9)
                  .putInt(w.session())
                  .put((byte) w.stream())
                  .putInt((int) w.bytes())
                  .array();
          case Frame.Resize r ->
              ByteBuffer.allocate(8)
                  .putInt(r.session())
                  .putShort((short) r.rows())
                  .putShort((short) r.cols())
                  .array();
          case Frame.Signal sg ->
              ByteBuffer.allocate(8).putInt(sg.session()).putInt(sg.signal()).array();
          case Frame.Closed c -> {
            byte[] json = utf8(Json.write(c.report()));
            yield ByteBuffer.allocate(4 + json.length).putInt(c.session()).put(json).array();
          }
        };
    if (p.length > MAX_PAYLOAD) {
      throw new ProtocolException(
          frame.type() + " payload of " + p.length + " bytes is over " + MAX_PAYLOAD);
    }
    return p;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Parses the payload of a frame whose header and CRCs were valid. Returns null for an unknown
   * type; throws {@link ProtocolException} for a known type whose payload is malformed.
   */
  public static Frame parse(int typeCode, byte[] b, int off, int len) {
    FrameType type = FrameType.ofCode(typeCode);
    if (type == null) {
      return null;
    }
    ByteBuffer p = ByteBuffer.wrap(b, off, len);
    return switch (type) {
      case HELLO -> {
        need(type, len, 9);
        int channel = p.get() & 0xFF;
        long boot = p.getLong();
        yield new Frame.Hello(
            channel, boot, new String(b, off + 9, len - 9, StandardCharsets.UTF_8));
      }
      case LOG -> {
        need(type, len, 17);
        long seq = p.getLong();
        long time = p.getLong();
        int stream = p.get() & 0xFF;
        byte[] data = new byte[len - 17];
        p.get(data);
        yield new Frame.Log(seq, time, stream, data);
      }
      case ACK -> {
        need(type, len, 8);
        yield new Frame.Ack(p.getLong());
      }
      case EXIT -> new Frame.Exit(Json.read(str(b, off, len), ExitReport.class));
      case EXIT_ACK -> new Frame.ExitAck();
      case CONTROL -> new Frame.Control(Json.read(str(b, off, len), ControlRequest.class));
      case CONTROL_REPLY -> new Frame.Reply(Json.read(str(b, off, len), ControlReply.class));
      case METRICS -> new Frame.Metrics(Json.read(str(b, off, len), GuestMetrics.class));
      case OPEN -> {
        need(type, len, 4);
        yield new Frame.Open(p.getInt(), str(b, off + 4, len - 4));
      }
      case STARTED -> {
        need(type, len, 8);
        yield new Frame.Started(p.getInt(), p.getInt());
      }
      case DATA -> {
        need(type, len, 5);
        int session = p.getInt();
        int stream = p.get() & 0xFF;
        byte[] data = new byte[len - 5];
        p.get(data);
        yield new Frame.Data(session, stream, data);
      }
      case EOF -> {
        need(type, len, 5);
        yield new Frame.Eof(p.getInt(), p.get() & 0xFF);
      }
      case WINDOW -> {
        need(type, len, 9);
        yield new Frame.Window(p.getInt(), p.get() & 0xFF, p.getInt() & 0xFFFF_FFFFL);
      }
      case RESIZE -> {
        need(type, len, 8);
        yield new Frame.Resize(p.getInt(), p.getShort() & 0xFFFF, p.getShort() & 0xFFFF);
      }
      case SIGNAL -> {
        need(type, len, 8);
        yield new Frame.Signal(p.getInt(), p.getInt());
      }
      case CLOSED -> {
        need(type, len, 4);
        yield new Frame.Closed(p.getInt(), Json.read(str(b, off + 4, len - 4), ExitReport.class));
      }
    };
  }

  private static String str(byte[] b, int off, int len) {
    return new String(b, off, len, StandardCharsets.UTF_8);
  }

  private static void need(FrameType type, int len, int min) {
    if (len < min) {
      throw new ProtocolException(
          type + " payload of " + len + " bytes is shorter than its " + min + " fixed bytes");
    }
  }
}
