package dev.inferno.daemon.backend;

import java.io.IOException;

/** Receives log records; throwing stops the read (the client went away). */
@FunctionalInterface
public interface LogSink {
  void accept(LogRecord record) throws IOException;
}
