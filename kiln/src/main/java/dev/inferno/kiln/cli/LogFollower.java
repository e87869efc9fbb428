package dev.inferno.kiln.cli;

import dev.inferno.kiln.logs.LogCursor;
import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.logs.LogStore;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;

/**
 * Prints the VM's log records as they become durable: the workload's stdout to out, its stderr and
 * init's own messages to err.
 */
final class LogFollower implements Runnable {
  private final LogStore store;
  private final PrintStream out;
  private final PrintStream err;
  private volatile boolean finishing;

  LogFollower(LogStore store, PrintStream out, PrintStream err) {
    this.store = store;
    this.out = out;
    this.err = err;
  }

  void finish() {
    finishing = true;
  }

  @Override
  public void run() {
    try (LogCursor cursor = store.cursor(store.firstOrdinal())) {
      while (true) {
        boolean last = finishing;
        LogRecord r = cursor.next(Duration.ofMillis(100));
        if (r == null) {
          if (last) {
            return;
          }
          continue;
        }
        PrintStream to = r.stream() == LogRecord.STDOUT ? out : err;
        to.write(r.data(), 0, r.data().length);
        to.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      err.println("kiln: cannot read the logs: " + e.getMessage());
    }
  }
}
