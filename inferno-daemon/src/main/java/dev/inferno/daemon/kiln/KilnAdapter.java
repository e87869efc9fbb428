package dev.inferno.daemon.kiln;

import dev.inferno.daemon.backend.StatsSample;
import dev.inferno.daemon.vm.SignalNames;
import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.protocol.GuestMetrics;
import dev.inferno.kiln.vm.ExitRecord;
import dev.inferno.model.stream.Frame;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;

/**
 * The one place kiln's types become the daemon's: kiln's exit record becomes the API's (model's)
 * exit record, kiln's log record an output frame of the API's stream. Nothing else in the daemon
 * reads a kiln record. The two exit records meet only here: kiln's is imported, the API's written
 * out in full.
 */
final class KilnAdapter {
  private KilnAdapter() {}

  /**
   * The API's exit record for kiln's. A VM whose VMM went away without a report (kiln's {@link
   * ExitRecord#NO_REPORT_CODE}) has no exit code: null, and the reason says why (for a VMM that
   * died before the guest started, the VMM's own words), so `inferno run` exits 125 with it.
   */
  static dev.inferno.model.ExitRecord exit(ExitRecord e) {
    String signal = null;
    if (e.signal() != null) {
      try {
        signal = SignalNames.name(e.signal());
      } catch (IllegalArgumentException ex) {
        signal = String.valueOf(e.signal());
      }
    }
    String reason = e.reason() != null ? e.reason() : e.error();
    return new dev.inferno.model.ExitRecord(
        e.hasCode() ? e.code() : null,
        signal,
        e.oom(),
        reason,
        e.finishedNs() > 0 ? instant(e.finishedNs()) : Instant.now());
  }

  /** The API's exit record for the exit.json kiln wrote. */
  static dev.inferno.model.ExitRecord exit(Path exitJson) throws IOException {
    return exit(ExitRecord.read(exitJson));
  }

  /** The exit of a VM kiln lost track of (its exit future failed). */
  static dev.inferno.model.ExitRecord lost(Throwable err) {
    return new dev.inferno.model.ExitRecord(
        null, null, false, "kiln lost the VM: " + err, Instant.now());
  }

  /**
   * The output frame of a log record, or null for a record that is not the workload's output.
   * init's own messages ("inferno-init: exec …: not found", dropped output) are errors the user
   * must see, as Docker prints exec failures: on stderr.
   */
  static Frame frame(LogRecord r) {
    Frame.Kind kind =
        switch (r.stream()) {
          case LogRecord.STDOUT -> Frame.Kind.STDOUT;
          case LogRecord.STDERR, LogRecord.INIT -> Frame.Kind.STDERR;
          default -> null;
        };
    return kind == null ? null : new Frame(kind, r.hostTimeNs(), r.data());
  }

  /** The daemon's reading of a guest METRICS report (PROTOCOL.md §6); absent parts read 0. */
  static StatsSample stats(GuestMetrics m) {
    GuestMetrics.Cpu cpu = m.cpu() == null ? new GuestMetrics.Cpu(0, 0, 0) : m.cpu();
    GuestMetrics.Memory mem = m.memory() == null ? new GuestMetrics.Memory(0, 0, 0) : m.memory();
    GuestMetrics.Disk disk = m.disk() == null ? new GuestMetrics.Disk(0, 0) : m.disk();
    GuestMetrics.Network net = m.network() == null ? new GuestMetrics.Network(0, 0) : m.network();
    return new StatsSample(
        m.timeNs(),
        cpu.userMs() + cpu.systemMs(),
        cpu.idleMs(),
        mem.totalBytes(),
        mem.availableBytes(),
        mem.cgroupCurrentBytes(),
        net.rxBytes(),
        net.txBytes(),
        disk.readBytes(),
        disk.writeBytes(),
        m.pids());
  }

  private static Instant instant(long ns) {
    return Instant.ofEpochSecond(ns / 1_000_000_000L, ns % 1_000_000_000L);
  }
}
