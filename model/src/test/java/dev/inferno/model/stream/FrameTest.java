package dev.inferno.model.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class FrameTest {
  @Test
  void roundTripsBinaryPayloadsAndTimes() throws IOException {
    Instant t = Instant.parse("2026-11-28T19:00:00.123456789Z");
    byte[] binary = {0, (byte) 0xff, 10, (byte) 0x80};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new Frame(Frame.Kind.STDERR, Frame.nanos(t), binary).writeTo(out);
    Frame.json(Frame.Kind.EXIT, "{\"code\":3}").writeTo(out);
    byte[] wire = out.toByteArray();
    assertThat(wire).hasSize(16 + 4 + 16 + 10);
    assertThat(wire[0]).isEqualTo((byte) 2);
    assertThat(Arrays.copyOfRange(wire, 4, 8)).containsExactly(0, 0, 0, 4);

    ByteArrayInputStream in = new ByteArrayInputStream(wire);
    Frame a = Frame.readFrom(in);
    assertThat(a.kind()).isEqualTo(Frame.Kind.STDERR);
    assertThat(a.payload()).containsExactly(binary);
    assertThat(a.time()).isEqualTo(t);
    Frame b = Frame.readFrom(in);
    assertThat(b.kind()).isEqualTo(Frame.Kind.EXIT);
    assertThat(b.text()).isEqualTo("{\"code\":3}");
    assertThat(Frame.readFrom(in)).isNull();
  }

  @Test
  void truncatedOrBogusFramesAreErrors() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new Frame(Frame.Kind.STDOUT, 1, new byte[10]).writeTo(out);
    byte[] wire = out.toByteArray();
    assertThatThrownBy(() -> Frame.readFrom(new ByteArrayInputStream(wire, 0, 8)))
        .isInstanceOf(EOFException.class);
    assertThatThrownBy(() -> Frame.readFrom(new ByteArrayInputStream(wire, 0, 20)))
        .isInstanceOf(EOFException.class);
    byte[] badKind = wire.clone();
    badKind[0] = 9;
    assertThatThrownBy(() -> Frame.readFrom(new ByteArrayInputStream(badKind)))
        .hasMessageContaining("bad frame kind 9");
    byte[] huge = wire.clone();
    huge[4] = 0x7f;
    assertThatThrownBy(() -> Frame.readFrom(new ByteArrayInputStream(huge)))
        .hasMessageContaining("too large");
  }
}
