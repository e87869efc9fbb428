package dev.inferno.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Docker's stream format as the daemon writes it, read back into stdout and stderr. */
class HijackedTest {
  private static void frame(ByteArrayOutputStream b, int stream, byte[] payload) {
    int n = payload.length;
    b.writeBytes(
        new byte[] {
          (byte) stream, 0, 0, 0, (byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n
        });
    b.writeBytes(payload);
  }

  /** Hands out at most 3 bytes a read: headers and payloads split anywhere. */
  private static InputStream trickle(byte[] b) {
    return new FilterInputStream(new java.io.ByteArrayInputStream(b)) {
      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        return super.read(buf, off, Math.min(len, 3));
      }
    };
  }

  @Test
  void framesGoToTheirStreamsInOrderWhateverTheReadSizes() throws Exception {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    frame(wire, 1, "out1\n".getBytes(StandardCharsets.UTF_8));
    frame(wire, 2, "err1\n".getBytes(StandardCharsets.UTF_8));
    byte[] big = new byte[100_000];
    new java.util.Random(3).nextBytes(big);
    frame(wire, 1, big);
    frame(wire, 1, new byte[0]);
    frame(wire, 2, "err2".getBytes(StandardCharsets.UTF_8));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Hijacked.demux(trickle(wire.toByteArray()), new PrintStream(out), new PrintStream(err));
    ByteArrayOutputStream wantOut = new ByteArrayOutputStream();
    wantOut.writeBytes("out1\n".getBytes(StandardCharsets.UTF_8));
    wantOut.writeBytes(big);
    assertThat(out.toByteArray()).isEqualTo(wantOut.toByteArray());
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("err1\nerr2");
  }

  @Test
  void aStreamCutInsideAFrameIsAnError() {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    frame(wire, 1, "hello".getBytes(StandardCharsets.UTF_8));
    byte[] cut = java.util.Arrays.copyOf(wire.toByteArray(), 10);
    assertThatThrownBy(() ->
            Hijacked.demux(
                new java.io.ByteArrayInputStream(cut),
                new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(new ByteArrayOutputStream())))
        .hasMessageContaining("inside a frame");
  }
}
