package dev.inferno.daemon.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.daemon.api.ApiJson;
import dev.inferno.daemon.store.Database;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.store.VmStore;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResolverTest {
  @TempDir Path dir;
  Database db;
  Resolver resolver;

  @BeforeEach
  void setUp() throws Exception {
    db = Database.open(dir.resolve("db"));
    VmStore s = new VmStore(db, ApiJson.mapper());
    for (String[] v :
        new String[][] {
          {"1234567890abcdef", "web"},
          {"1234ffff00000000", "worker"},
          {"abcdef0000000000", "1234567890ab"}, // a name that looks like the first VM's short id
        }) {
      s.insert(
          new VmRecord(
              v[0],
              v[1],
              "img",
              null,
              List.of("x"),
              RunRequest.of("img"),
              VmState.CREATED,
              Instant.now(),
              null,
              null,
              null,
              null,
              null,
              false));
    }
    resolver = new Resolver(s);
  }

  @AfterEach
  void tearDown() throws Exception {
    db.close();
  }

  @Test
  void fullIdThenNameThenUniquePrefix() throws Exception {
    assertThat(resolver.resolve("1234567890abcdef").name()).isEqualTo("web");
    assertThat(resolver.resolve("worker").id()).isEqualTo("1234ffff00000000");
    assertThat(resolver.resolve("1234567890ab").name())
        .as("an exact name beats an id prefix")
        .isEqualTo("1234567890ab");
    assertThat(resolver.resolve("1234f").name()).isEqualTo("worker");
    assertThat(resolver.resolve("abc").name()).isEqualTo("1234567890ab");
  }

  @Test
  void ambiguousPrefixListsTheCandidates() {
    assertThatThrownBy(() -> resolver.resolve("1234"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("ambiguous")
        .hasMessageContaining("1234567890ab")
        .hasMessageContaining("1234ffff0000");
  }

  @Test
  void unknownRefsSuggestCloseNames() {
    assertThatThrownBy(() -> resolver.resolve("wrker"))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(404))
        .hasMessage("no such VM: wrker (did you mean worker?)");
    assertThatThrownBy(() -> resolver.resolve("zzzzzzzz")).hasMessage("no such VM: zzzzzzzz");
    assertThatThrownBy(() -> resolver.resolve(" ")).hasMessage("empty VM name or id");
  }

  @Test
  void editDistance() {
    assertThat(Resolver.distance("kitten", "sitting")).isEqualTo(3);
    assertThat(Resolver.distance("", "abc")).isEqualTo(3);
    assertThat(Resolver.distance("same", "same")).isZero();
  }
}
