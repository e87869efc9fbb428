package dev.inferno.daemon.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerPolicyTest {
  @TempDir Path dir;

  @Test
  void rootSelfAndGroupMembersOnly() throws Exception {
    Path group = dir.resolve("group");
    Files.writeString(group, "root:x:0:\ninferno:x:990:alice,bob\nusers:x:100:carol\n");
    PeerPolicy p = PeerPolicy.standard("inferno", group);
    assertThat(p.check("root", "root")).isNull();
    assertThat(p.check(System.getProperty("user.name"), "whatever")).isNull();
    assertThat(p.check("alice", "alice")).as("listed member").isNull();
    assertThat(p.check("dave", "inferno")).as("primary group").isNull();
    assertThat(p.check("carol", "users"))
        .isEqualTo(
            "permission denied: user carol is not root and not in the group inferno; add the user"
                + " to that group");
    assertThat(PeerPolicy.members(dir.resolve("missing"), "inferno")).isEmpty();
  }
}
