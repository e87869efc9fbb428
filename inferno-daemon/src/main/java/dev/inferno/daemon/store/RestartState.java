package dev.inferno.daemon.store;

import java.time.Instant;

/**
 * A VM's restart bookkeeping (moby's RestartCount, HasBeenManuallyStopped and its restart manager's
 * current delay), kept in the database so that it survives a daemon restart.
 *
 * @param count how often the restart policy restarted the VM since it was last started by hand
 * @param stoppedByHand the user stopped or killed it (restarts suppressed; cleared by start)
 * @param restartAt when the pending restart is due (state restarting), else null
 * @param delayMillis the back-off delay used last (0: none yet, or reset after a long run)
 */
public record RestartState(int count, boolean stoppedByHand, Instant restartAt, long delayMillis) {
  public static final RestartState NONE = new RestartState(0, false, null, 0);

  public RestartState withStoppedByHand(boolean v) {
    return new RestartState(count, v, restartAt, delayMillis);
  }

  /** Nothing pending any more (the restart happened, or was cancelled). */
  public RestartState settled() {
    return new RestartState(count, stoppedByHand, null, delayMillis);
  }
}
