package dev.inferno.model.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MultiplexedTest {
  @Test
  void framesAreDockersEightByteHeaderAndPayload() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Multiplexed.write(out, 1, "hi".getBytes(StandardCharsets.UTF_8));
    Multiplexed.write(out, 2, new byte[0]); // nothing
    byte[] big = new byte[70_000];
    big[69_999] = 7;
    Multiplexed.write(out, 2, big);
    byte[] b = out.toByteArray();
    assertThat(b).startsWith(1, 0, 0, 0, 0, 0, 0, 2, 'h', 'i', 2, 0, 0, 0, 0, 1, 0x11, 0x70);
    assertThat(b).hasSize(10 + 8 + 70_000);

    ByteArrayInputStream in = new ByteArrayInputStream(b);
    Multiplexed.Chunk c = Multiplexed.read(in);
    assertThat(c.stream()).isEqualTo(1);
    assertThat(new String(c.bytes(), StandardCharsets.UTF_8)).isEqualTo("hi");
    c = Multiplexed.read(in);
    assertThat(c.stream()).isEqualTo(2);
    assertThat(c.bytes()).isEqualTo(big);
    assertThat(Multiplexed.read(in)).isNull();
  }

  @Test
  void aCutOrForeignStreamIsAnError() {
    assertThatThrownBy(() -> Multiplexed.read(new ByteArrayInputStream(new byte[] {1, 0, 0})))
        .isInstanceOf(EOFException.class);
    assertThatThrownBy(() ->
            Multiplexed.read(new ByteArrayInputStream(new byte[] {1, 0, 0, 0, 0, 0, 0, 5, 1})))
        .isInstanceOf(EOFException.class);
    assertThatThrownBy(() ->
            Multiplexed.read(
                new ByteArrayInputStream("hello, world".getBytes(StandardCharsets.UTF_8))))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not a multiplexed stream");
    assertThatThrownBy(() -> Multiplexed.write(new ByteArrayOutputStream(), 0, new byte[1]))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
