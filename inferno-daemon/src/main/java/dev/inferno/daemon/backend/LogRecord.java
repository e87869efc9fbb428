package dev.inferno.daemon.backend;

import java.time.Instant;

/** One chunk of a VM's output as the guest's init sent it, with the host's receive time. */
public record LogRecord(Stream stream, Instant time, byte[] data) {
  /** Which of the process's outputs it came from. */
  public enum Stream {
    STDOUT,
    STDERR
  }
}
