package dev.inferno.kiln.vm;

import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.guest.GuestTransport;
import dev.inferno.kiln.protocol.GuestMetrics;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * The host side of one VM's guest channels, as the supervisor needs it. Implemented over the
 * protocol by dev.inferno.kiln.guest; {@link #NONE} is for VMs without channels (exit comes from
 * the console then).
 */
public interface GuestSession extends AutoCloseable {

  /** Asks init to send the workload its stop signal; true when init acknowledged in time. */
  boolean requestStop(Duration timeout);

  /** Asks init to send the workload signal {@code signal}; true when init acknowledged in time. */
  default boolean signal(int signal, Duration timeout) {
    return false;
  }

  /** The latest METRICS frame of the guest (PROTOCOL.md), once one has arrived. */
  default Optional<GuestMetrics> metrics() {
    return Optional.empty();
  }

  /** Whether the guest's init has made contact (false when there are no channels). */
  default boolean initConnected() {
    return false;
  }

  /**
   * The VM's interactive side (PROTOCOL.md §10: the main process's stdin and terminal, exec
   * sessions); empty for a VM without channels.
   */
  default Optional<GuestExec> exec() {
    return Optional.empty();
  }

  /** The exit report init sent, once it has arrived. */
  Optional<ExitRecord> exitReport();

  @Override
  void close();

  /** Opens the channels' listeners for a VM; called before the VMM starts and on re-adoption. */
  @FunctionalInterface
  interface Factory {
    GuestSession open(VmSpec spec, VmLayout layout, GuestTransport transport) throws IOException;
  }

  GuestSession NONE =
      new GuestSession() {
        @Override
        public boolean requestStop(Duration timeout) {
          return false;
        }

        @Override
        public Optional<ExitRecord> exitReport() {
          return Optional.empty();
        }

        @Override
        public void close() {}
      };

  Factory NO_CHANNELS = (spec, layout, transport) -> NONE;
}
