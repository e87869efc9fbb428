package dev.inferno.kiln.exec;

import dev.inferno.kiln.protocol.ExitReport;

/** The guest could not start a session: its CLOSED report (code 125/126/127 or 1, and why). */
public final class ExecStartException extends Exception {
  private final transient ExitReport report;

  public ExecStartException(ExitReport report) {
    super(report.error() == null ? "exit code " + report.code() : report.error());
    this.report = report;
  }

  public ExitReport report() {
    return report;
  }
}
