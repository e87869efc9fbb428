package dev.inferno.model.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.model.ExitRecord;
import dev.inferno.model.ImageSummary;
import dev.inferno.model.Progress;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import dev.inferno.model.VmSummary;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordsTest {
  private static final Instant T = Instant.parse("2026-11-28T19:00:01.500Z");

  @Test
  void writesComponentsInOrderWithNullsIsoTimesAndLowercaseEnums() {
    VmSummary vm =
        new VmSummary(
            "0123456789abcdef",
            "n",
            "busybox",
            List.of("sh", "-c", "exit 3"),
            VmState.EXITED,
            T,
            T,
            null,
            new ExitRecord(3, null, false, null, T),
            List.of());
    assertThat(Json.write(vm))
        .isEqualTo(
            "{\"id\":\"0123456789abcdef\",\"name\":\"n\",\"image\":\"busybox\","
                + "\"command\":[\"sh\",\"-c\",\"exit 3\"],\"state\":\"exited\","
                + "\"createdAt\":\"2026-11-28T19:00:01.500Z\",\"startedAt\":\"2026-11-28T19:00:01.500Z\","
                + "\"finishedAt\":null,\"exit\":{\"code\":3,\"signal\":null,\"oom\":false,"
                + "\"reason\":null,\"finishedAt\":\"2026-11-28T19:00:01.500Z\"},\"ports\":[],"
                + "\"restartCount\":0,\"health\":null}");
    assertThat(Json.read(Json.write(vm), VmSummary.class)).isEqualTo(vm);
    assertThat(Json.read(Json.pretty(vm), VmSummary.class)).isEqualTo(vm);
  }

  @Test
  void readsNestedRecordsListsNumbersAndAbsentFields() {
    Progress p =
        Json.read(
            "{\"status\":\"Done\",\"current\":5,\"unknown\":{\"ignored\":[1]},"
                + "\"image\":{\"reference\":\"r\",\"id\":\"sha256:1\",\"sizeBytes\":12,"
                + "\"createdAt\":null}}",
            Progress.class);
    assertThat(p)
        .isEqualTo(
            new Progress(
                "Done", null, 5L, null, null, new ImageSummary("r", "sha256:1", null, 12, null)));
    RunRequest r =
        Json.read("{\"image\":\"i\",\"cpus\":2,\"stopTimeoutSeconds\":3}", RunRequest.class);
    assertThat(r.cpus()).isEqualTo(2.0);
    assertThat(r.stopTimeoutSeconds()).isEqualTo(3);
    assertThat(r.tty()).isNull();
    RunRequest t =
        Json.read(
            "{\"image\":\"i\",\"tty\":true,\"interactive\":false,\"consoleSize\":[24,80]}",
            RunRequest.class);
    assertThat(t.tty()).isTrue();
    assertThat(t.interactive()).isFalse();
    assertThat(t.consoleSize()).containsExactly(24, 80);
    assertThat(Json.write(t))
        .contains("\"tty\":true,\"interactive\":false,\"consoleSize\":[24,80]");
    assertThat(Json.readList("[{\"status\":\"a\"},{\"status\":\"b\"}]", Progress.class))
        .extracting(Progress::status)
        .containsExactly("a", "b");
    assertThat(VmState.valueOf("RUNNING"))
        .isEqualTo(
            Json.read("{\"state\":\"Running\",\"command\":[],\"restartCount\":0}", VmSummary.class)
                .state());
  }

  @Test
  void aWrongShapeNamesTheFieldAndWhatItGot() {
    assertThatThrownBy(() -> Json.read("{\"image\":\"i\",\"cpus\":\"two\"}", RunRequest.class))
        .isInstanceOf(JsonException.class)
        .hasMessage("RunRequest.cpus: expected number, got \"two\"");
    assertThatThrownBy(() -> Json.read("{\"sizeBytes\":null}", ImageSummary.class))
        .hasMessage("ImageSummary.sizeBytes: expected a long, got null");
    assertThatThrownBy(() -> Json.read("{\"state\":\"gone\"}", VmSummary.class))
        .hasMessage(
            "VmSummary.state: expected one of [CREATED, RUNNING, PAUSED, RESTARTING, EXITED], got \"gone\"");
    assertThatThrownBy(() -> Json.read("{\"createdAt\":\"yesterday\"}", VmSummary.class))
        .hasMessage("VmSummary.createdAt: expected an ISO-8601 instant, got \"yesterday\"");
    assertThatThrownBy(() -> Json.read("{\"stopTimeoutSeconds\":4294967296}", RunRequest.class))
        .hasMessage("RunRequest.stopTimeoutSeconds: expected a 32-bit integer, got 4294967296");
    assertThatThrownBy(() -> Json.read("[]", RunRequest.class))
        .hasMessage("RunRequest: expected map, got []");
    assertThatThrownBy(() -> Json.readList("{}", RunRequest.class))
        .hasMessage("expected a JSON array of RunRequest");
  }

  @Test
  void readsInstantsAsInstantParseDoes() {
    java.util.Random random = new java.util.Random(42);
    List<String> samples = new java.util.ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      // seconds from year 1 to 9999, and nanos cut to every precision Instant.toString writes
      long s = -62135596800L + (long) (random.nextDouble() * 315537897599L);
      Instant t = Instant.ofEpochSecond(s, random.nextInt(1_000_000_000));
      samples.add(t.toString());
      samples.add(t.truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString());
      samples.add(t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    }
    samples.addAll(
        List.of(
            "1970-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2024-02-29T12:00:00.5Z",
            "2000-02-29T00:00:00.1Z",
            "2026-11-28T19:00:01.50Z",
            "2026-11-28T19:00:01+02:00",
            "+10000-01-01T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T19:00:01.Z",
            "2026-11-28T23:59:60Z"));
    for (String sample : samples) {
      assertThat(Records.instant(sample)).as(sample).isEqualTo(Instant.parse(sample));
    }
    // what Instant.parse rejects is rejected the same way
    for (String bad :
        List.of(
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-28T19:00:01.1234567890Z",
            "2026-11-28 19:00:01Z",
            "2026-1a-28T19:00:01Z")) {
      assertThatThrownBy(() -> Instant.parse(bad)).as(bad).isNotNull();
      assertThatThrownBy(() -> Records.instant(bad))
          .as(bad)
          .isInstanceOf(java.time.format.DateTimeParseException.class);
    }
  }
}
