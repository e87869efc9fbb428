package dev.inferno.kiln.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.exec.ExecProcess;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.ExecStartException;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.kiln.protocol.RunConfig;
import dev.inferno.kiln.testing.TestGuest;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.kiln.vm.LinkedGuest;
import dev.inferno.kiln.vm.RunningVm;
import dev.inferno.kiln.vm.Supervisor;
import dev.inferno.kiln.vm.VmSpec;
import dev.inferno.kiln.vm.VmmKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The session channel (PROTOCOL.md §10) end to end under QEMU with the real kernel and init: the
 * main process's stdin, an exec with a stdin round trip, and an exec that cannot start.
 */
class RealInitSessionQemuTest {

  private static String logs(RunningVm vm) throws IOException {
    return ((LinkedGuest) vm.guest())
        .logs().tail(100_000).stream()
            .filter(r -> r.stream() != LogRecord.INIT)
            .map(LogRecord::text)
            .collect(Collectors.joining());
  }

  private static void awaitLog(RunningVm vm, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!logs(vm).contains(text)) {
      assertThat(System.nanoTime()).as("waiting for '" + text + "'").isLessThan(deadline);
      assertThat(vm.exit()).as("VM ended while waiting for '" + text + "'").isNotDone();
      Thread.sleep(20);
    }
  }

  /** Everything the process writes on one stream until its output ends. */
  private static String drain(ExecProcess p, int stream) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ExecProcess.Output o = p.read(); o != null; o = p.read()) {
      if (o.stream() == stream) {
        out.writeBytes(o.bytes());
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void mainStdinAndAnExecRoundTrip(@TempDir Path dir) throws Exception {
    Path init = TestGuest.realInit();
    Assumptions.assumeTrue(
        init != null, "skipped: no real init at build/init/init (run init/build.sh)");
    Path image = TestGuest.busyboxImage(dir, "sh", "sleep", "cat", "echo");
    RunConfig base =
        TestGuest.shellRunConfig(
            "sess1", "echo ready; read line; echo main:$line; while :; do sleep 0.1; done");
    RunConfig config =
        base.toBuilder().process(base.process().withTerminal(false, true, null)).build();
    VmSpec spec =
        new VmSpec(
            "sess1",
            TestGuest.kernel(),
            init,
            config,
            image,
            0,
            1,
            192,
            Duration.ofSeconds(2),
            VmmKind.QEMU,
            dir.resolve("sess1"),
            null);
    Supervisor sup =
        new Supervisor(
            Map.of(VmmKind.QEMU, new Qemu(new Qemu.Config("qemu-system-x86_64", Qemu.Accel.TCG))),
            LinkedGuest.factory());
    RunningVm vm = sup.start(spec);
    try {
      GuestExec exec = vm.exec().orElseThrow();
      awaitLog(vm, "ready");
      exec.mainStdin().write("over the session channel\n".getBytes(StandardCharsets.UTF_8));
      awaitLog(vm, "main:over the session channel");

      ExecProcess cat =
          exec.open(
              new ExecRequest.Command(
                  List.of("cat"), List.of("PATH=/bin"), null, "/", false, true, null));
      assertThat(cat.pid()).isPositive();
      byte[] in = "ping\n".repeat(2000).getBytes(StandardCharsets.UTF_8);
      cat.stdin().write(in);
      cat.stdin().close();
      assertThat(drain(cat, 1)).isEqualTo("ping\n".repeat(2000));
      ExitReport done = cat.exit().get(60, TimeUnit.SECONDS);
      assertThat(done.code()).isZero();
      assertThat(logs(vm)).as("exec output stays off the VM's log").doesNotContain("ping");

      // a terminal exec: one stream, TERM from the env, the size given at OPEN
      ExecProcess tty =
          exec.open(
              new ExecRequest.Command(
                  List.of("sh", "-c", "echo term=$TERM; [ -t 0 ] && echo on-a-tty"),
                  List.of("PATH=/bin", "TERM=xterm"),
                  null,
                  "/",
                  true,
                  false,
                  new int[] {24, 80}));
      assertThat(drain(tty, 1)).contains("term=xterm").contains("on-a-tty");
      assertThat(tty.exit().get(60, TimeUnit.SECONDS).code()).isZero();

      ExecProcess stat = exec.open(new ExecRequest.Stat("/bin"));
      assertThat(drain(stat, 1)).startsWith("{\"name\":\"bin\"");
      assertThat(stat.exit().get(60, TimeUnit.SECONDS).code()).isZero();
      ExecProcess top = exec.open(new ExecRequest.Top());
      assertThat(drain(top, 1)).contains("\"Titles\"").contains("sleep");
      assertThatThrownBy(() -> exec.open(new ExecRequest.ArchiveGet("/no/such")))
          .isInstanceOf(ExecStartException.class)
          .hasMessage("/no/such: no such file or directory");

      assertThatThrownBy(() ->
              exec.open(
                  new ExecRequest.Command(
                      List.of("nosuch"), List.of("PATH=/bin"), null, null, false, false, null)))
          .isInstanceOf(ExecStartException.class)
          .satisfies(e -> assertThat(((ExecStartException) e).report().code()).isEqualTo(127))
          .hasMessageContaining("nosuch");
    } finally {
      ExitRecord exit = vm.stop();
      assertThat(exit.source()).isEqualTo("guest");
    }
  }
}
