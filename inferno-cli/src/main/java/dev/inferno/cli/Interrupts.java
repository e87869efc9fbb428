package dev.inferno.cli;

/**
 * Ctrl-C (SIGINT) and SIGTERM handling for attached runs: the JVM's default would exit at once,
 * leaving the VM running; instead each signal runs the action (stop, then kill), and the exit frame
 * that follows ends the command with the VM's code.
 */
final class Interrupts {
  private Interrupts() {}

  @SuppressWarnings("removal")
  static void install(Runnable action) {
    sun.misc.SignalHandler h = sig -> action.run();
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), h);
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), h);
  }
}
