package dev.inferno.kiln.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CodecTest {

  @Test
  void roundTripsEveryType() {
    List<Frame> frames =
        List.of(
            new Frame.Hello(3, -2L, "vm-ü"),
            new Frame.Log(-1L, 5L, Frame.Log.STDERR, new byte[] {0, 'I', 'F', 1}),
            new Frame.Ack(7),
            new Frame.Exit(new ExitReport(0, null, true, 1, 2, null)),
            new Frame.ExitAck(),
            new Frame.Control(ControlRequest.signal(15)),
            new Frame.Control(ControlRequest.stop()),
            new Frame.Reply(ControlReply.success()),
            new Frame.Reply(ControlReply.failure("nope")),
            new Frame.Metrics(
                new GuestMetrics(
                    1,
                    new GuestMetrics.Cpu(1, 2, 3),
                    new GuestMetrics.Memory(4, 5, 6),
                    new GuestMetrics.Disk(7, 8),
                    new GuestMetrics.Network(9, 10),
                    11)),
            new Frame.Open(-1, "{\"kind\":\"top\"}"),
            new Frame.Started(1, 4242),
            new Frame.Data(2, Frame.Data.STDERR, new byte[] {0, 'I', 'F', 1}),
            new Frame.Eof(3, Frame.Data.STDIN),
            new Frame.Window(4, Frame.Data.STDOUT, 0xFFFF_FFFFL),
            new Frame.Resize(5, 65535, 1),
            new Frame.Signal(6, 9),
            new Frame.Closed(7, new ExitReport(137, 9, false, 1, 2, "the VM stopped")));
    FrameDecoder d = new FrameDecoder();
    List<Frame> got = new ArrayList<>();
    for (Frame f : frames) {
      byte[] b = Codec.encode(f);
      got.addAll(d.decode(b, 0, b.length));
    }
    assertThat(got).containsExactlyElementsOf(frames);
  }

  @Test
  void metricsCarryPidsAndAnOlderInitsFrameReadsZero() {
    GuestMetrics m =
        Json.read("{\"time_ns\":1,\"log_dropped_bytes\":0,\"pids\":7}", GuestMetrics.class);
    assertThat(m.pids()).isEqualTo(7);
    assertThat(Json.read("{\"time_ns\":1}", GuestMetrics.class).pids()).isZero();
    byte[] b = Codec.encode(new Frame.Metrics(m));
    assertThat(new FrameDecoder().decode(b, 0, b.length)).containsExactly(new Frame.Metrics(m));
  }

  @Test
  void skipsUnknownTypesWholeEvenWhenTheyContainFrames() {
    // an unknown frame whose payload is itself a valid frame: skipped whole, the inner frame never
    // comes out
    byte[] inner = Codec.encode(new Frame.Ack(99));
    byte[] unknown = Codec.encodeRaw(0x42, inner);
    byte[] after = Codec.encode(new Frame.Ack(1));
    FrameDecoder d = new FrameDecoder();
    List<Frame> got = new ArrayList<>(d.decode(unknown, 0, unknown.length));
    got.addAll(d.decode(after, 0, after.length));
    assertThat(got).containsExactly(new Frame.Ack(1));
    assertThat(d.unknownFrames()).isEqualTo(1);
    assertThat(d.discardedBytes()).isZero();
  }

  @Test
  void skipsMalformedPayloadsOfKnownTypes() {
    byte[] shortLog = Codec.encodeRaw(FrameType.LOG.code(), new byte[5]);
    byte[] badJson =
        Codec.encodeRaw(FrameType.EXIT.code(), "{not json".getBytes(StandardCharsets.UTF_8));
    byte[] good = Codec.encode(new Frame.ExitAck());
    FrameDecoder d = new FrameDecoder();
    d.feed(shortLog, 0, shortLog.length);
    d.feed(badJson, 0, badJson.length);
    d.feed(good, 0, good.length);
    assertThat(d.next()).isEqualTo(new Frame.ExitAck());
    assertThat(d.next()).isNull();
    assertThat(d.malformedFrames()).isEqualTo(2);
  }

  @Test
  void resyncsAfterRandomCorruptionWithoutInventingFrames() {
    Random rnd = new Random(42);
    List<Frame> sent = new ArrayList<>();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (int i = 1; i <= 2000; i++) {
      byte[] data = new byte[1 + rnd.nextInt(300)];
      rnd.nextBytes(data);
      Frame f = new Frame.Log(i, i, 1, data);
      byte[] b = Codec.encode(f);
      if (rnd.nextInt(10) == 0) {
        b[rnd.nextInt(b.length)] ^= (byte) (1 + rnd.nextInt(255)); // corrupt: must be dropped
      } else if (rnd.nextInt(10) == 0) {
        b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length)); // cut short: must be dropped
      } else {
        sent.add(f);
      }
      out.writeBytes(b);
    }
    byte[] all = out.toByteArray();
    FrameDecoder d = new FrameDecoder();
    List<Frame> got = new ArrayList<>();
    for (int i = 0; i < all.length; ) {
      int n = Math.min(all.length - i, 1 + rnd.nextInt(5000));
      got.addAll(d.decode(all, i, n));
      i += n;
    }
    assertThat(got).containsExactlyElementsOf(sent);
  }

  @Test
  void sessionFramesShorterThanTheirFixedFieldsAreSkipped() {
    FrameDecoder d = new FrameDecoder();
    for (FrameType t :
        List.of(
            FrameType.OPEN,
            FrameType.STARTED,
            FrameType.DATA,
            FrameType.EOF,
            FrameType.WINDOW,
            FrameType.RESIZE,
            FrameType.SIGNAL,
            FrameType.CLOSED)) {
      byte[] b = Codec.encodeRaw(t.code(), new byte[3]);
      d.feed(b, 0, b.length);
    }
    byte[] badReport = Codec.encodeRaw(FrameType.CLOSED.code(), new byte[] {0, 0, 0, 1, '{'});
    d.feed(badReport, 0, badReport.length);
    assertThat(d.next()).isNull();
    assertThat(d.malformedFrames()).isEqualTo(9);
  }

  @Test
  void rejectsOversizedSessionDataAndOutOfRangeFields() {
    assertThatThrownBy(() -> Codec.encode(new Frame.Data(1, 1, new byte[Frame.Data.MAX_DATA + 1])))
        .isInstanceOf(ProtocolException.class);
    assertThat(Codec.encode(new Frame.Data(1, 1, new byte[Frame.Data.MAX_DATA])))
        .hasSize(Codec.HEADER_SIZE + Codec.MAX_PAYLOAD);
    assertThatThrownBy(() -> new Frame.Window(1, 1, 1L << 32))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Frame.Resize(0, 65536, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsOversizedLogData() {
    assertThatThrownBy(() -> Codec.encode(new Frame.Log(1, 1, 1, new byte[Frame.Log.MAX_DATA + 1])))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("over");
  }

  @Test
  void exitReportJsonIsInitsForm() {
    assertThat(new ExitReport(137, 9, false, 1, 2, null).toJson())
        .isEqualTo(
            "{\"code\":137,\"signal\":9,\"oom\":false,\"started_ns\":1,\"finished_ns\":2,\"error\":null}");
  }
}
