package dev.inferno.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MountGrammarTest {
  static Stream<Arguments> volumes() {
    return Stream.of(
        Arguments.of("/data", Mount.volume(null, "/data", false)),
        Arguments.of("/data:ro", Mount.volume(null, "/data", true)),
        Arguments.of("db:/var/lib/db", Mount.volume("db", "/var/lib/db", false)),
        Arguments.of("db:/var/lib/db:ro", Mount.volume("db", "/var/lib/db", true)),
        Arguments.of("db:/var/lib/db:rw", Mount.volume("db", "/var/lib/db", false)),
        Arguments.of("my_vol.1-x:/x:ro,rw", Mount.volume("my_vol.1-x", "/x", false)),
        Arguments.of("/srv/site:/usr/share/nginx/html", bind("/srv/site", "/usr/share/nginx/html")),
        Arguments.of("./site:/site:ro", new Mount("bind", "./site", "/site", true, null, null)));
  }

  static Mount bind(String source, String target) {
    return new Mount("bind", source, target, false, null, null);
  }

  @ParameterizedTest
  @MethodSource
  void volumes(String spec, Mount expected) {
    assertThat(MountGrammar.volume(spec)).isEqualTo(expected);
  }

  @ParameterizedTest
  @MethodSource
  void badVolumes(String spec, String message) {
    assertThatThrownBy(() -> MountGrammar.volume(spec)).hasMessageContaining(message);
  }

  static Stream<Arguments> badVolumes() {
    return Stream.of(
        Arguments.of("a:/b:ro:x", "expected [NAME:]/path[:ro|rw]"),
        Arguments.of(":/data", "empty source"),
        Arguments.of("db:/data:z", "option \"z\" is not supported"),
        Arguments.of("db:/data:nocopy", "option \"nocopy\""),
        Arguments.of("x:/data", "invalid volume name \"x\""),
        Arguments.of("a b:/data", "a host directory needs an absolute path"));
  }

  static Stream<Arguments> mounts() {
    return Stream.of(
        Arguments.of(
            "type=volume,src=db,dst=/var/lib/db", Mount.volume("db", "/var/lib/db", false)),
        Arguments.of("source=db,target=/d,readonly", Mount.volume("db", "/d", true)),
        Arguments.of("source=db,destination=/d,ro=true", Mount.volume("db", "/d", true)),
        Arguments.of("src=db,target=/d,readonly=false", Mount.volume("db", "/d", false)),
        Arguments.of("src=db,target=/d,ro=1", Mount.volume("db", "/d", true)),
        Arguments.of("target=/cache", Mount.volume(null, "/cache", false)),
        Arguments.of("type=tmpfs,dst=/run/x", Mount.tmpfs("/run/x", null, null)),
        Arguments.of(
            "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770",
            Mount.tmpfs("/t", 64L << 20, 01770)),
        Arguments.of(
            "type=bind,src=/srv,dst=/srv,readonly",
            new Mount("bind", "/srv", "/srv", true, null, null)));
  }

  @ParameterizedTest
  @MethodSource
  void mounts(String spec, Mount expected) {
    assertThat(MountGrammar.mount(spec)).isEqualTo(expected);
  }

  static Stream<Arguments> badMounts() {
    return Stream.of(
        Arguments.of("src=db", "no target"),
        Arguments.of("src=db,target=/d,volume-driver=x", "unknown key \"volume-driver\""),
        Arguments.of("src=db,target=/d,bogus=1", "unknown key \"bogus\""),
        Arguments.of("type=nfs,target=/d", "type \"nfs\": volume, tmpfs or bind"),
        Arguments.of("type=tmpfs,src=x,target=/d", "a tmpfs has no source"),
        Arguments.of("type=tmpfs,target=/d,readonly", "read-only tmpfs"),
        Arguments.of("type=tmpfs,target=/d,tmpfs-mode=999", "octal"),
        Arguments.of("type=tmpfs,target=/d,tmpfs-size=lots", "invalid tmpfs size"),
        Arguments.of("src=db,target=/d,tmpfs-size=1m", "need type=tmpfs"),
        Arguments.of("type=bind,target=/d", "a bind needs source"),
        Arguments.of("src=db,src=x,target=/d", "source given twice"),
        Arguments.of("src=db,target=/d,ro=maybe", "true or false"),
        Arguments.of("src=db,target", "target needs a value"),
        Arguments.of("src=db,,target=/d", "an empty field"),
        Arguments.of("src=-x,target=/d", "invalid volume name"));
  }

  @ParameterizedTest
  @MethodSource
  void badMounts(String spec, String message) {
    assertThatThrownBy(() -> MountGrammar.mount(spec)).hasMessageContaining(message);
  }

  static Stream<Arguments> tmpfs() {
    return Stream.of(
        Arguments.of("/run", Mount.tmpfs("/run", null, null)),
        Arguments.of("/run:size=64m", Mount.tmpfs("/run", 64L << 20, null)),
        Arguments.of("/run:size=64m,mode=1777", Mount.tmpfs("/run", 64L << 20, 01777)),
        Arguments.of("/run:rw,nosuid,nodev,mode=755", Mount.tmpfs("/run", null, 0755)));
  }

  @ParameterizedTest
  @MethodSource
  void tmpfs(String spec, Mount expected) {
    assertThat(MountGrammar.tmpfs(spec)).isEqualTo(expected);
  }

  @Test
  void badTmpfs() {
    assertThatThrownBy(() -> MountGrammar.tmpfs("/run:noexec"))
        .hasMessageContaining("option \"noexec\" is not supported");
    assertThatThrownBy(() -> MountGrammar.tmpfs("/run:size=10%"))
        .hasMessageContaining("invalid tmpfs size");
    assertThatThrownBy(() -> MountGrammar.tmpfs(":size=1m")).hasMessageContaining("expected /path");
  }

  @Test
  void volumeNames() {
    assertThat(MountGrammar.volumeNameProblem("db")).isNull();
    assertThat(MountGrammar.volumeNameProblem("a1_b.c-d")).isNull();
    assertThat(MountGrammar.volumeNameProblem("a")).contains("2 or more");
    assertThat(MountGrammar.volumeNameProblem("_db")).isNotNull();
    assertThat(MountGrammar.volumeNameProblem("a/b")).isNotNull();
    assertThat(MountGrammar.volumeNameProblem(null)).isNotNull();
  }

  @Test
  void checkAcceptsWhatTheGrammarsMake() {
    MountGrammar.check(
        List.of(
            MountGrammar.volume("db:/var/lib/db"),
            MountGrammar.volume("/data/"),
            MountGrammar.tmpfs("/data/cache:size=1m")));
    MountGrammar.check(null);
  }

  static Stream<Arguments> badLists() {
    return Stream.of(
        Arguments.of(List.of(Mount.volume("db", "data", false)), "must be an absolute path"),
        Arguments.of(List.of(Mount.volume("db", "/", false)), "cannot mount over the root"),
        Arguments.of(List.of(Mount.volume("db", "//", false)), "cannot mount over the root"),
        Arguments.of(
            List.of(Mount.volume("db", "/d", false), Mount.tmpfs("/d/", null, null)),
            "duplicate mount target /d"),
        Arguments.of(List.of(Mount.volume("db", "/a/../b", false)), "no . or .. parts"),
        Arguments.of(List.of(bind("/srv", "/srv")), "a VM cannot share a host directory"),
        Arguments.of(
            List.of(new Mount("nfs", null, "/d", false, null, null)), "invalid mount type"),
        Arguments.of(List.of(Mount.volume("x", "/d", false)), "invalid volume name"),
        Arguments.of(List.of(Mount.tmpfs("/d", -1L, null)), "0 or more bytes"),
        Arguments.of(List.of(Mount.tmpfs("/d", null, 010000)), "octal 0 to 7777"),
        Arguments.of(List.of(new Mount("tmpfs", "x", "/d", false, null, null)), "it has no source"),
        Arguments.of(List.of(new Mount("volume", "db", "/d", false, 5L, null)), "are for a tmpfs"));
  }

  @ParameterizedTest
  @MethodSource
  void badLists(List<Mount> mounts, String message) {
    assertThatThrownBy(() -> MountGrammar.check(mounts)).hasMessageContaining(message);
  }

  @Test
  void bindMessageNamesTheAlternatives() {
    assertThat(MountGrammar.NO_BIND).contains("-v NAME:/path").contains("inferno cp");
  }
}
