package dev.inferno.kiln.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The OPEN JSON of each request is the golden vectors' (testdata/protocol/open-*.bin). */
class ExecRequestTest {
  static final Path DIR = Path.of(System.getProperty("inferno.root"), "testdata", "protocol");

  static Map<String, String> openJson() throws IOException {
    JsonNode root = new ObjectMapper().readTree(DIR.resolve("vectors.json").toFile());
    Map<String, String> out = new HashMap<>();
    for (JsonNode v : root.get("vectors")) {
      JsonNode f = v.get("frames").get(0);
      if (v.get("frames").size() == 1 && f.get("type").asText().equals("OPEN")) {
        out.put(v.get("file").asText(), f.get("json").asText());
      }
    }
    return out;
  }

  @Test
  void eachKindEncodesAsTheVector() throws IOException {
    Map<String, String> json = openJson();
    assertThat(
            new ExecRequest.Command(
                    List.of("sh", "-c", "echo hi"),
                    List.of("PATH=/usr/bin:/bin", "TERM=xterm"),
                    "nobody",
                    "/tmp",
                    true,
                    true,
                    new int[] {24, 80})
                .toJson())
        .isEqualTo(json.get("open-exec.bin"));
    assertThat(new ExecRequest.ArchiveGet("/var/log/app.log").toJson())
        .isEqualTo(json.get("open-archive-get.bin"));
    assertThat(new ExecRequest.ArchivePut("/srv/data").toJson())
        .isEqualTo(json.get("open-archive-put.bin"));
    assertThat(new ExecRequest.Stat("/srv/data").toJson()).isEqualTo(json.get("open-stat.bin"));
    assertThat(new ExecRequest.Top().toJson()).isEqualTo(json.get("open-top.bin"));
  }

  @Test
  void defaultsAreWrittenAsNull() {
    assertThat(
            new ExecRequest.Command(List.of("id"), List.of(), null, null, false, false, null)
                .toJson())
        .isEqualTo(
            "{\"kind\":\"exec\",\"argv\":[\"id\"],\"env\":[],\"user\":null,\"workdir\":null,"
                + "\"tty\":false,\"stdin\":false,\"console_size\":null}");
  }

  @Test
  void onlyStdinExecsAndArchivePutReadStream0() {
    assertThat(new ExecRequest.ArchivePut("/d").readsStdin()).isTrue();
    assertThat(new ExecRequest.ArchiveGet("/d").readsStdin()).isFalse();
    assertThat(new ExecRequest.Top().readsStdin()).isFalse();
    assertThat(
            new ExecRequest.Command(List.of("x"), List.of(), null, null, false, true, null)
                .readsStdin())
        .isTrue();
  }

  @Test
  void badRequestsAreRefused() {
    assertThatThrownBy(
            () -> new ExecRequest.Command(List.of(), List.of(), null, null, false, false, null))
        .hasMessage("an exec needs a command");
    assertThatThrownBy(() ->
            new ExecRequest.Command(
                List.of("x"), List.of(), null, null, true, false, new int[] {24}))
        .hasMessageContaining("[rows, cols]");
  }
}
