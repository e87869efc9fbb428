package dev.inferno.daemon.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferno.daemon.api.ApiJson;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmStoreTest {
  @TempDir Path dir;

  static VmRecord rec(String id, String name, Instant created) {
    return new VmRecord(
        id,
        name,
        "docker.io/library/busybox:latest",
        "sha256:abc",
        List.of("sh", "-c", "echo"),
        RunRequest.of("busybox").withName(name),
        VmState.CREATED,
        created,
        null,
        null,
        null,
        null,
        null,
        false);
  }

  @Test
  void roundTripsEveryFieldThroughItsLifeCycle() throws SQLException {
    try (Database db = Database.open(dir.resolve("db"))) {
      VmStore s = new VmStore(db, ApiJson.mapper());
      Instant t0 = Instant.parse("2026-11-28T19:00:00.5Z");
      VmRecord r = rec("00000000000000aa", "web", t0);
      assertThat(s.insert(r)).isTrue();
      assertThat(s.get(r.id())).contains(r);
      VmRecord running = r.started(t0.plusSeconds(1), 4242, "qemu");
      s.update(running);
      assertThat(s.get(r.id())).contains(running);
      assertThat(s.inState(VmState.RUNNING)).containsExactly(running);
      VmRecord exited =
          running.exited(new ExitRecord(137, "SIGKILL", true, "killed", t0.plusSeconds(2)));
      s.update(exited);
      assertThat(s.get(r.id())).contains(exited);
      assertThat(s.byName("web")).contains(exited);
      assertThat(s.inState(VmState.RUNNING)).isEmpty();
      assertThat(s.delete(r.id())).isTrue();
      assertThat(s.delete(r.id())).isFalse();
      assertThat(s.get(r.id())).isEmpty();
    }
  }

  @Test
  void namesAreUniqueAndPrefixesAndOrderWork() throws SQLException {
    try (Database db = Database.open(dir.resolve("db"))) {
      VmStore s = new VmStore(db, ApiJson.mapper());
      Instant t = Instant.parse("2026-11-28T19:00:00Z");
      assertThat(s.insert(rec("abc1000000000000", "a1", t))).isTrue();
      // a fractional second sorts after the whole second (text order must be time order)
      assertThat(s.insert(rec("abc2000000000000", "a2", t.plusMillis(500)))).isTrue();
      assertThat(s.insert(rec("def0000000000000", "a1", t))).as("name taken").isFalse();
      assertThat(s.insert(rec("abc1000000000000", "other", t))).as("id taken").isFalse();
      assertThat(s.byIdPrefix("abc")).hasSize(2);
      assertThat(s.byIdPrefix("abc2")).extracting(VmRecord::name).containsExactly("a2");
      assertThat(s.all()).extracting(VmRecord::name).containsExactly("a2", "a1");
    }
  }
}
