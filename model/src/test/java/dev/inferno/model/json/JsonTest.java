package dev.inferno.model.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void parsesEveryKindOfValue() {
    Map<String, Object> m =
        Json.parseObject(
            " {\"s\":\"a\\\"b\\n\\u00e9\\/\",\"n\":-12,\"big\":18446744073709551615,"
                + "\"f\":1.5e2,\"t\":true,\"x\":false,\"z\":null,\"a\":[1,[],{}]} ");
    assertThat(m.get("s")).isEqualTo("a\"b\né/");
    assertThat(m.get("n")).isEqualTo(-12L);
    assertThat(m.get("big")).isEqualTo(new BigInteger("18446744073709551615"));
    assertThat(m.get("f")).isEqualTo(150.0);
    assertThat(m.get("t")).isEqualTo(true);
    assertThat(m.get("x")).isEqualTo(false);
    assertThat(m).containsKey("z");
    assertThat(m.get("z")).isNull();
    assertThat(m.get("a")).isEqualTo(List.of(1L, List.of(), Map.of()));
    assertThat(m.keySet()).containsExactly("s", "n", "big", "f", "t", "x", "z", "a");
  }

  @Test
  void writesWhatItParses() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("text", "tab\there \"quoted\" \u0001 ünï");
    m.put("list", Arrays.asList(1L, null, true, "x"));
    m.put("nested", Map.of("k", 2.5));
    m.put("empty", List.of());
    String compact = Json.write(m);
    assertThat(compact).doesNotContain("\n").contains("\\u0001").contains("\\t");
    assertThat(Json.parse(compact)).isEqualTo(m);
    String pretty = Json.pretty(m);
    assertThat(pretty).contains("\n  \"text\": ");
    assertThat(Json.parse(pretty)).isEqualTo(m);
  }

  @Test
  void rejectsMalformedInputWithOffset() {
    for (String bad :
        List.of(
            "",
            "{",
            "{\"a\" 1}",
            "[1,]",
            "{\"a\":1,}",
            "tru",
            "\"abc",
            "{} x",
            "[\"\u0001\"]",
            "01x",
            "\"\\q\"",
            "{1:2}")) {
      assertThatThrownBy(() -> Json.parse(bad), bad)
          .isInstanceOf(JsonException.class)
          .hasMessageStartingWith("invalid JSON at offset ");
    }
  }

  @Test
  void refusesAbsurdNesting() {
    String deep = "[".repeat(10_000) + "]".repeat(10_000);
    assertThatThrownBy(() -> Json.parse(deep)).hasMessageContaining("nested too deeply");
  }
}
