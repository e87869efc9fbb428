package dev.inferno.daemon.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DetachKeysTest {
  @ParameterizedTest
  @CsvSource(
      delimiter = ';',
      value = {
        "ctrl-p,ctrl-q; 16,17",
        "ctrl-a; 1",
        "ctrl-z; 26",
        "CTRL-P,Ctrl-Q; 16,17",
        "ctrl-@; 0",
        "ctrl-[; 27",
        "ctrl-\\; 28",
        "ctrl-]; 29",
        "ctrl-^; 30",
        "ctrl-_; 31",
        "a,b,c; 97,98,99",
        "ctrl-x,x; 24,120",
      })
  void theGrammarIsDockers(String spec, String codes) {
    String[] c = codes.split(",", -1);
    byte[] want = new byte[c.length];
    for (int i = 0; i < c.length; i++) {
      want[i] = (byte) Integer.parseInt(c[i]);
    }
    assertThat(DetachKeys.bytes(spec)).isEqualTo(want);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = ';',
      value = {"ctrl-1", "ctrl-", "ab", "ctrl-pq", "é", "ctrl-p,,ctrl-q", "alt-x"})
  void anythingElseIsRefusedNamingTheKey(String spec) {
    assertThatThrownBy(() -> DetachKeys.bytes(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid detach keys \"" + spec + "\"");
  }

  /** input pieces -> forwarded, detached. */
  static String scan(String spec, String... pieces) {
    DetachKeys k = DetachKeys.parse(spec);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String p : pieces) {
      byte[] b = p.getBytes(StandardCharsets.ISO_8859_1);
      if (k.scan(b, 0, b.length, out)) {
        return out.toString(StandardCharsets.ISO_8859_1) + "|detached";
      }
    }
    out.writeBytes(k.pending());
    return out.toString(StandardCharsets.ISO_8859_1) + "|open";
  }

  @Test
  void theSequenceDetachesAndIsNotForwarded() {
    assertThat(scan(null, "ls\n\u0010\u0011after")).isEqualTo("ls\n|detached");
    // split across reads
    assertThat(scan("", "ab\u0010", "\u0011")).isEqualTo("ab|detached");
    assertThat(scan("x,y,z", "ax", "y", "zq")).isEqualTo("a|detached");
  }

  @Test
  void aPartialMatchThatFailsIsForwardedInFull() {
    assertThat(scan(null, "\u0010a")).isEqualTo("\u0010a|open");
    assertThat(scan(null, "\u0010", "\u0010\u0011")).isEqualTo("\u0010|detached");
    assertThat(scan("x,y,z", "xyq")).isEqualTo("xyq|open");
    assertThat(scan("x,y,z", "xyxyz")).isEqualTo("xy|detached");
    // input that ends inside a partial match is input
    assertThat(scan(null, "abc\u0010")).isEqualTo("abc\u0010|open");
    // ctrl-c is a byte like any other
    assertThat(scan(null, "\u0003")).isEqualTo("\u0003|open");
  }
}
