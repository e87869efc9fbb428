package dev.inferno.kiln.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The golden vectors of testdata/protocol, shared with init's tests. */
class VectorsTest {
  static final Path DIR = Path.of(System.getProperty("inferno.root"), "testdata", "protocol");

  record Vector(String file, List<Frame> frames, boolean encodes) {
    @Override
    public String toString() {
      return file;
    }
  }

  static Stream<Arguments> vectors() throws IOException {
    JsonNode root = new ObjectMapper().readTree(DIR.resolve("vectors.json").toFile());
    List<Arguments> out = new ArrayList<>();
    for (JsonNode v : root.get("vectors")) {
      List<Frame> frames = new ArrayList<>();
      for (JsonNode f : v.get("frames")) {
        frames.add(expected(f));
      }
      out.add(
          Arguments.of(new Vector(v.get("file").asText(), frames, v.get("encodes").asBoolean())));
    }
    assertThat(out).hasSizeGreaterThanOrEqualTo(15);
    return out.stream();
  }

  /**
   * The frame a vector entry describes, built independently of the codec's JSON handling of each
   * type.
   */
  static Frame expected(JsonNode f) {
    return switch (f.get("type").asText()) {
      case "HELLO" ->
          new Frame.Hello(
              f.get("channel").asInt(),
              Long.parseUnsignedLong(f.get("boot_id").asText()),
              f.get("vm_id").asText());
      case "LOG" ->
          new Frame.Log(
              Long.parseUnsignedLong(f.get("seq").asText()),
              Long.parseUnsignedLong(f.get("guest_time_ns").asText()),
              f.get("stream").asInt(),
              HexFormat.of().parseHex(f.get("data_hex").asText()));
      case "ACK" -> new Frame.Ack(Long.parseUnsignedLong(f.get("seq").asText()));
      case "EXIT" -> new Frame.Exit(ExitReport.fromJson(f.get("json").asText()));
      case "EXIT_ACK" -> new Frame.ExitAck();
      case "CONTROL" -> new Frame.Control(Json.read(f.get("json").asText(), ControlRequest.class));
      case "CONTROL_REPLY" ->
          new Frame.Reply(Json.read(f.get("json").asText(), ControlReply.class));
      case "METRICS" -> new Frame.Metrics(Json.read(f.get("json").asText(), GuestMetrics.class));
      case "OPEN" -> new Frame.Open(session(f), f.get("json").asText());
      case "STARTED" -> new Frame.Started(session(f), (int) f.get("pid").asLong());
      case "DATA" ->
          new Frame.Data(
              session(f),
              f.get("stream").asInt(),
              HexFormat.of().parseHex(f.get("data_hex").asText()));
      case "EOF" -> new Frame.Eof(session(f), f.get("stream").asInt());
      case "WINDOW" ->
          new Frame.Window(session(f), f.get("stream").asInt(), f.get("bytes").asLong());
      case "RESIZE" -> new Frame.Resize(session(f), f.get("rows").asInt(), f.get("cols").asInt());
      case "SIGNAL" -> new Frame.Signal(session(f), (int) f.get("signal").asLong());
      case "CLOSED" -> new Frame.Closed(session(f), ExitReport.fromJson(f.get("json").asText()));
      default -> throw new AssertionError("unknown type in vectors.json: " + f);
    };
  }

  /** A u32 session id (4294967295 in the vectors) as the int the frames carry. */
  private static int session(JsonNode f) {
    return (int) f.get("session").asLong();
  }

  @Test
  void everyFrameTypeHasAVector() throws IOException {
    JsonNode root = new ObjectMapper().readTree(DIR.resolve("vectors.json").toFile());
    java.util.Set<String> types = new java.util.HashSet<>();
    root.get("vectors")
        .forEach(v -> v.get("frames").forEach(f -> types.add(f.get("type").asText())));
    assertThat(types)
        .containsExactlyInAnyOrderElementsOf(
            java.util.Arrays.stream(FrameType.values()).map(Enum::name).toList());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void decodesToExactlyTheListedFrames(Vector v) throws IOException {
    byte[] bytes = Files.readAllBytes(DIR.resolve(v.file()));
    FrameDecoder d = new FrameDecoder();
    assertThat(d.decode(bytes, 0, bytes.length)).containsExactlyElementsOf(v.frames());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void encodesToTheFileBytes(Vector v) throws IOException {
    if (!v.encodes()) {
      return;
    }
    byte[] bytes = Files.readAllBytes(DIR.resolve(v.file()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Frame f : v.frames()) {
      out.writeBytes(Codec.encode(f));
    }
    assertThat(HexFormat.of().formatHex(out.toByteArray()))
        .isEqualTo(HexFormat.of().formatHex(bytes));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void decodesOneByteAtATime(Vector v) throws IOException {
    byte[] bytes = Files.readAllBytes(DIR.resolve(v.file()));
    FrameDecoder d = new FrameDecoder();
    List<Frame> got = new ArrayList<>();
    for (int i = 0; i < bytes.length; i++) {
      got.addAll(d.decode(bytes, i, 1));
    }
    assertThat(got).containsExactlyElementsOf(v.frames());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void decodesInRandomChunkings(Vector v) throws IOException {
    byte[] bytes = Files.readAllBytes(DIR.resolve(v.file()));
    Random rnd = new Random(v.file().hashCode());
    for (int round = 0; round < 50; round++) {
      FrameDecoder d = new FrameDecoder();
      List<Frame> got = new ArrayList<>();
      int i = 0;
      while (i < bytes.length) {
        int n = Math.min(bytes.length - i, 1 + rnd.nextInt(round % 2 == 0 ? 40 : 9000));
        got.addAll(d.decode(bytes, i, n));
        i += n;
      }
      assertThat(got).as("round %d", round).containsExactlyElementsOf(v.frames());
    }
  }
}
