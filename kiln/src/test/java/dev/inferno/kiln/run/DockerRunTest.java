package dev.inferno.kiln.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.protocol.ProcessSpec;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Docker's run semantics (moby's daemon/commit.go merge), the table init's spec.rs tests had, plus
 * the cases where the daemon's and init's copies disagreed.
 */
class DockerRunTest {
  static final String PATH = "PATH=" + DockerRun.DEFAULT_PATH;

  static ImageConfig image(List<String> entrypoint, List<String> cmd) {
    return new ImageConfig(entrypoint, cmd, null, null, null, null);
  }

  static Overrides flags(List<String> entrypoint, List<String> cmd) {
    return new Overrides(entrypoint, cmd, null, null, null, null);
  }

  static final List<String> EP = List.of("/ep.sh");
  static final List<String> RUN = List.of("run");

  static Stream<Arguments> argv() {
    return Stream.of(
        // name, image entrypoint, image cmd, user entrypoint, user cmd, argv
        Arguments.of(
            "entrypoint and cmd from the image",
            EP,
            List.of("run", "x"),
            null,
            null,
            List.of("/ep.sh", "run", "x")),
        Arguments.of(
            "a cmd keeps the image's entrypoint",
            EP,
            RUN,
            null,
            List.of("other"),
            List.of("/ep.sh", "other")),
        Arguments.of(
            "an entrypoint drops the image's cmd",
            EP,
            RUN,
            List.of("/bin/sh"),
            null,
            List.of("/bin/sh")),
        Arguments.of(
            "an entrypoint with a cmd",
            EP,
            RUN,
            List.of("/bin/sh"),
            List.of("-c", "x"),
            List.of("/bin/sh", "-c", "x")),
        Arguments.of(
            "--entrypoint \"\" clears it, the cmd stays",
            EP,
            RUN,
            List.of(),
            List.of("ls"),
            List.of("ls")),
        // moby: an empty user entrypoint leaves an empty cmd to the image's Cmd
        Arguments.of(
            "--entrypoint \"\" alone runs the image's cmd",
            EP,
            RUN,
            List.of(),
            null,
            List.of("run")),
        // the case the daemon and init disagreed on: an empty cmd is absent, as in moby
        Arguments.of(
            "an empty cmd takes the image's", EP, RUN, null, List.of(), List.of("/ep.sh", "run")),
        Arguments.of("an image with only a cmd", null, List.of("sh"), null, null, List.of("sh")),
        Arguments.of(
            "an image with an empty entrypoint list",
            List.of(),
            List.of("sh"),
            null,
            List.of("echo", "hi"),
            List.of("echo", "hi")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("argv")
  void argvFollowsMobysMerge(
      String name,
      List<String> imageEp,
      List<String> imageCmd,
      List<String> userEp,
      List<String> userCmd,
      List<String> argv) {
    ProcessSpec p = DockerRun.resolve(image(imageEp, imageCmd), flags(userEp, userCmd), "h");
    assertThat(p.argv()).as(name).isEqualTo(argv);
  }

  @Test
  void theMergedConfigKeepsEntrypointAndCmdApart() {
    MergedConfig m = DockerRun.merge(image(EP, RUN), flags(null, List.of("a", "b")));
    assertThat(m.entrypoint()).containsExactly("/ep.sh");
    assertThat(m.cmd()).containsExactly("a", "b");
    assertThat(m.argv()).containsExactly("/ep.sh", "a", "b");
  }

  @Test
  void noCommandIsRefused() {
    assertThatThrownBy(() -> DockerRun.resolve(image(EP, null), flags(List.of(), null), "h"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no command specified");
    assertThatThrownBy(() -> DockerRun.resolve(ImageConfig.EMPTY, Overrides.NONE, "h"))
        .hasMessageContaining("no command specified");
    assertThatThrownBy(() -> DockerRun.resolve(ImageConfig.EMPTY, flags(List.of(), List.of()), "h"))
        .hasMessageContaining("no command specified");
  }

  @Test
  void envMergePathDefaultAndHostname() {
    ProcessSpec p =
        DockerRun.resolve(
            new ImageConfig(null, List.of("x"), List.of("A=1", "B=2"), null, null, null),
            new Overrides(null, null, List.of("B=3", "C=4"), null, null, null),
            "host1");
    assertThat(p.env()).containsExactly("HOSTNAME=host1", "A=1", "B=3", "C=4", PATH);
    p =
        DockerRun.resolve(
            new ImageConfig(null, List.of("x"), List.of("PATH=/opt/bin"), null, null, null),
            new Overrides(null, null, List.of("HOSTNAME=mine"), null, null, null),
            "host1");
    assertThat(p.env()).containsExactly("HOSTNAME=mine", "PATH=/opt/bin");
    // what inspect shows: the image's env and the user's, without the container's additions
    assertThat(
            DockerRun.merge(
                    new ImageConfig(null, List.of("x"), List.of("A=1"), null, null, null),
                    new Overrides(null, null, List.of("A=2"), null, null, null))
                .env())
        .containsExactly("A=2");
  }

  @Test
  void workdirUserAndStopSignalPrecedence() {
    ProcessSpec p = DockerRun.resolve(image(null, List.of("x")), Overrides.NONE, "h");
    assertThat(List.of(p.workdir(), p.user(), p.stopSignal()))
        .containsExactly("/", "0:0", "SIGTERM");
    assertThat(DockerRun.merge(image(null, List.of("x")), Overrides.NONE).user()).isNull();
    ImageConfig img = new ImageConfig(null, List.of("x"), null, "/app", "app", "SIGQUIT");
    p = DockerRun.resolve(img, Overrides.NONE, "h");
    assertThat(List.of(p.workdir(), p.user(), p.stopSignal()))
        .containsExactly("/app", "app", "SIGQUIT");
    p = DockerRun.resolve(img, new Overrides(null, null, null, "/w", "1:2", "USR1"), "h");
    assertThat(List.of(p.workdir(), p.user(), p.stopSignal())).containsExactly("/w", "1:2", "USR1");
    // empty strings are "not set", as in moby
    p = DockerRun.resolve(img, new Overrides(null, null, null, "", "", ""), "h");
    assertThat(List.of(p.workdir(), p.user(), p.stopSignal()))
        .containsExactly("/app", "app", "SIGQUIT");
    assertThatThrownBy(() ->
            DockerRun.resolve(
                new ImageConfig(null, List.of("x"), null, "rel", null, null), Overrides.NONE, "h"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs to be an absolute path");
  }

  @Test
  void aTerminalGetsTermXtermUnlessTheEnvHasATerm() {
    ImageConfig img = new ImageConfig(null, List.of("x"), List.of("A=1"), null, null, null);
    assertThat(DockerRun.merge(img, new Overrides(null, null, null, null, null, null, true)).env())
        .containsExactly("A=1", "TERM=xterm");
    assertThat(
            DockerRun.merge(
                    img, new Overrides(null, null, List.of("TERM=vt100"), null, null, null, true))
                .env())
        .containsExactly("A=1", "TERM=vt100");
    ImageConfig withTerm =
        new ImageConfig(null, List.of("x"), List.of("TERM=dumb"), null, null, null);
    assertThat(
            DockerRun.merge(withTerm, new Overrides(null, null, null, null, null, null, true))
                .env())
        .containsExactly("TERM=dumb");
    assertThat(DockerRun.merge(img, Overrides.NONE).env()).containsExactly("A=1");
    assertThat(
            DockerRun.resolve(img, new Overrides(null, null, null, null, null, null, true), "h")
                .env())
        .containsExactly("HOSTNAME=h", "A=1", "TERM=xterm", PATH);
    assertThat(
            DockerRun.resolve(img, new Overrides(null, null, null, null, null, null, true), "h")
                .tty())
        .isTrue();
    assertThat(DockerRun.resolve(img, Overrides.NONE, "h").tty()).isFalse();
    assertThat(new Overrides(null, null, null, null, null, null, true).withStopSignal("INT").tty())
        .isTrue();
  }

  static final MergedConfig VM =
      new MergedConfig(
          List.of("/ep.sh"), List.of("run"), List.of("A=1", "B=2"), "/app", "app", "SIGTERM");

  static Stream<Arguments> execs() {
    int[] size = {24, 80};
    return Stream.of(
        // name, exec flags, env, user, workdir
        Arguments.of(
            "the VM's env, user and workdir",
            new ExecOverrides(List.of("sh"), null, null, null, false, false, null),
            List.of("HOSTNAME=h", "A=1", "B=2", PATH),
            "app",
            "/app"),
        Arguments.of(
            "-e replaces in place and appends",
            new ExecOverrides(List.of("sh"), List.of("B=3", "C=4"), null, null, false, false, null),
            List.of("HOSTNAME=h", "A=1", "B=3", PATH, "C=4"),
            "app",
            "/app"),
        Arguments.of(
            "-t adds TERM=xterm before -e",
            new ExecOverrides(List.of("sh"), List.of("Z=9"), null, null, true, true, size),
            List.of("HOSTNAME=h", "A=1", "B=2", PATH, "TERM=xterm", "Z=9"),
            "app",
            "/app"),
        Arguments.of(
            "-t with -e TERM keeps the user's TERM in TERM's place",
            new ExecOverrides(List.of("sh"), List.of("TERM=vt220"), null, null, true, false, null),
            List.of("HOSTNAME=h", "A=1", "B=2", PATH, "TERM=vt220"),
            "app",
            "/app"),
        Arguments.of(
            "-u and -w win; empty strings are not set",
            new ExecOverrides(List.of("sh"), null, "0:0", "/tmp", false, false, null),
            List.of("HOSTNAME=h", "A=1", "B=2", PATH),
            "0:0",
            "/tmp"),
        Arguments.of(
            "empty -u and -w fall back to the VM's",
            new ExecOverrides(List.of("sh"), null, "", "", false, false, null),
            List.of("HOSTNAME=h", "A=1", "B=2", PATH),
            "app",
            "/app"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("execs")
  void execMergesOverTheVm(
      String name, ExecOverrides flags, List<String> env, String user, String workdir) {
    var c = DockerRun.exec(VM, "h", flags);
    assertThat(c.argv()).isEqualTo(flags.cmd());
    assertThat(c.env()).containsExactlyElementsOf(env);
    assertThat(c.user()).isEqualTo(user);
    assertThat(c.workdir()).isEqualTo(workdir);
    assertThat(c.tty()).isEqualTo(flags.tty());
    assertThat(c.stdin()).isEqualTo(flags.stdin());
    assertThat(c.consoleSize()).isEqualTo(flags.consoleSize());
  }

  @Test
  void execOfARootVmWithoutWorkdirRunsAsRootInSlash() {
    MergedConfig vm = new MergedConfig(List.of(), List.of("x"), List.of(), "/", null, "SIGTERM");
    var c =
        DockerRun.exec(
            vm, "h", new ExecOverrides(List.of("id"), null, null, null, false, false, null));
    assertThat(c.user()).isNull();
    assertThat(c.workdir()).isEqualTo("/");
    assertThat(c.env()).containsExactly("HOSTNAME=h", PATH);
  }

  @Test
  void execRefusesAnEmptyCommandAndARelativeWorkdir() {
    assertThatThrownBy(() ->
            DockerRun.exec(
                VM, "h", new ExecOverrides(List.of(), null, null, null, false, false, null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no exec command specified");
    assertThatThrownBy(() ->
            DockerRun.exec(VM, "h", new ExecOverrides(null, null, null, null, false, false, null)))
        .hasMessageContaining("no exec command specified");
    assertThatThrownBy(() ->
            DockerRun.exec(
                VM, "h", new ExecOverrides(List.of("sh"), null, null, "tmp", false, false, null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the working directory \"tmp\" is invalid: it needs to be an absolute path");
    assertThatThrownBy(() ->
            DockerRun.exec(
                VM,
                "h",
                new ExecOverrides(List.of("sh"), null, null, null, true, false, new int[] {0, 80})))
        .hasMessageContaining("each 1 to 65535");
  }
}
