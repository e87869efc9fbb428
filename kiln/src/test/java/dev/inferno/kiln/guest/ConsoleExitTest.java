package dev.inferno.kiln.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.protocol.ExitReport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConsoleExitTest {
  @TempDir Path dir;

  @Test
  void findsTheLastWellFormedExitLine() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(
        ("[    0.000000] Linux version 6.1.0\r\n"
                + "INFERNO-EXIT {\"code\":1,\"signal\":null,\"oom\":false,\"started_ns\":1,\"finished_ns\":2,\"error\":null}\r\n"
                + "[    1.2] random: crng init done\n")
            .getBytes(StandardCharsets.UTF_8));
    out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xFE, 0, '\n'}); // binary noise on the console
    out.writeBytes(
        ("INFERNO-EXIT {\"code\":127,\"signal\":null,\"oom\":false,\"started_ns\":3,\"finished_ns\":4,"
                + "\"error\":\"exec: \\\"nosuchcmd\\\": not found — ü\"}\n"
                + "INFERNO-EXIT {\"code\":0,\"sig[    2.5] reboot: Restarting system\n" // mangled
                // by printk
                + "  INFERNO-EXIT {\"code\":5} not at the start of a line\n"
                + "[    2.6] reboot: Power down\n")
            .getBytes(StandardCharsets.UTF_8));
    Path log = dir.resolve("console.log");
    Files.write(log, out.toByteArray());
    assertThat(ConsoleExit.recover(log))
        .contains(new ExitReport(127, null, false, 3, 4, "exec: \"nosuchcmd\": not found — ü"));
  }

  @Test
  void readsOnlyTheTailOfALongConsole() throws IOException {
    Path log = dir.resolve("console.log");
    String noise = "[    1.0] " + "x".repeat(200) + "\n";
    Files.writeString(
        log,
        "INFERNO-EXIT {\"code\":9,\"signal\":null,\"oom\":false,\"started_ns\":1,\"finished_ns\":2,\"error\":null}\n"
            + noise.repeat(5000)
            + "INFERNO-EXIT {\"code\":3,\"signal\":null,\"oom\":false,\"started_ns\":1,\"finished_ns\":2,\"error\":null}\n"
            + noise);
    assertThat(ConsoleExit.recover(log)).contains(new ExitReport(3, null, false, 1, 2, null));
    Files.writeString(
        log,
        "INFERNO-EXIT {\"code\":9,\"signal\":null,\"oom\":false,\"started_ns\":1,\"finished_ns\":2,\"error\":null}\n"
            + noise.repeat(5000));
    assertThat(ConsoleExit.recover(log)).isEmpty(); // 1 MB back: not the end of this run
  }

  @Test
  void emptyWhenThereIsNoLineOrNoFile() throws IOException {
    Path log = dir.resolve("console.log");
    Files.writeString(log, "[    0.0] Linux\nKernel panic - not syncing\n");
    assertThat(ConsoleExit.recover(log)).isEmpty();
    assertThat(ConsoleExit.recover(dir.resolve("missing.log"))).isEmpty();
  }

  @Test
  void exitFileRoundTripsAndRejectsGarbageWithTheFileName() throws IOException {
    Path f = dir.resolve("vm/exit.json");
    ExitReport r = new ExitReport(143, 15, false, 5, 6, null);
    ExitFile.write(f, r);
    assertThat(ExitFile.read(f)).contains(r);
    ExitReport r2 = new ExitReport(137, null, false, 0, 7, "the VMM died without an exit report");
    ExitFile.write(f, r2);
    assertThat(ExitFile.read(f)).contains(r2);
    assertThat(ExitFile.read(dir.resolve("none.json"))).isEmpty();
    Files.writeString(f, "{trunc");
    assertThatThrownBy(() -> ExitFile.read(f)).hasMessageContaining(f.toString());
  }
}
