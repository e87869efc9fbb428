package dev.inferno.daemon.exec;

import dev.inferno.daemon.api.UpgradedStream;
import dev.inferno.daemon.backend.LogQuery;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.model.stream.Frame;
import dev.inferno.model.stream.Multiplexed;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Docker's attach to a running VM's main process. Output comes from the VM's log store (the one
 * record of it: with {@code logs} from the start, else from now) until the VM exited and all of it
 * was written; input goes to the main process's stdin through the detach-key scan, when asked
 * ({@code stdin}) and the VM was created interactive — otherwise it is read and dropped. The
 * client's half-close sends EOF to the guest only with {@code stdinOnce}; the detach keys (with a
 * terminal only, as Docker) close the connection and leave the VM running.
 */
public final class Attach {
  private static final Logger LOG = Logger.getLogger(Attach.class.getName());

  /** What the query asked for; {@code stdout}/{@code stderr}: which streams are sent. */
  public record Options(
      boolean stdin,
      boolean logs,
      boolean stdinOnce,
      DetachKeys keys,
      boolean stdout,
      boolean stderr) {
    /** Both output streams. */
    public Options(boolean stdin, boolean logs, boolean stdinOnce, DetachKeys keys) {
      this(stdin, logs, stdinOnce, keys, true, true);
    }
  }

  private Attach() {}

  public static String mediaType(VmRecord r) {
    return Boolean.TRUE.equals(r.request().tty())
        ? Multiplexed.RAW_MEDIA_TYPE
        : Multiplexed.MEDIA_TYPE;
  }

  /**
   * Docker's attach to a VM that may not run yet ({@code docker run}: create, attach, wait, start):
   * the stream waits for the boot; output from {@code from} on (the attach request's time: the
   * client starts the VM once it has its answer). It ends at once when the VM is removed or fails
   * to boot instead; a VM that ran and exited before the output was read still gives all of it (the
   * caller pins it, so that an auto-removed one stays until then).
   */
  public static void serveOnceBooted(
      VmService vms, VmRecord r, java.time.Instant from, Options o, UpgradedStream s)
      throws Exception {
    if (!awaitBoot(vms, r.id())) {
      s.close();
      return;
    }
    serve(vms, r, guestOnceReady(vms, r), from, o, s);
  }

  /**
   * The main process's session once the guest takes it (its channel comes up just after the boot),
   * or null when the VM exited first: its output is still there to send.
   */
  private static GuestExec guestOnceReady(VmService vms, VmRecord r) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      try {
        return vms.guest(r);
      } catch (dev.inferno.daemon.vm.ApiException e) {
        // only an exit (or removal) ends the wait: right after the "started" event the VM's handle
        // may not be registered yet, and giving up then dropped the client's input (docker run -i)
        var now = vms.store().get(r.id());
        boolean over = now.isEmpty() || now.get().state() == dev.inferno.model.VmState.EXITED;
        if (over || System.nanoTime() > deadline) {
          return null;
        }
        Thread.sleep(50);
      }
    }
  }

  /** True once the VM has started (it may have exited since); false when it never will. */
  private static boolean awaitBoot(VmService vms, String id) throws InterruptedException {
    try (var sub = vms.events().subscribe(Long.MAX_VALUE)) {
      while (true) {
        if (vms.handle(id).isPresent()) {
          return true;
        }
        if (vms.store().get(id).isEmpty()) {
          return false;
        }
        dev.inferno.model.Event e = sub.next(1_000);
        if (e != null && id.equals(e.id())) {
          switch (e.type()) {
            case "started" -> {
              return true;
            }
            case "exited", "removed" -> {
              return false; // the boot failed
            }
            default -> {}
          }
        }
      }
    }
  }

  /**
   * Attach to a running VM, its output from {@code from} on (unless {@code o.logs()}). The caller
   * fixes "now" when the request arrives, before any input is forwarded: a cursor opened later by
   * the output thread would miss the answer to the first input.
   */
  public static void serve(
      VmService vms,
      VmRecord r,
      GuestExec guest,
      java.time.Instant from,
      Options o,
      UpgradedStream s)
      throws Exception {
    boolean tty = Boolean.TRUE.equals(r.request().tty());
    boolean forward = guest != null && o.stdin() && Boolean.TRUE.equals(r.request().interactive());
    OutputStream out = s.output();
    LogQuery query = o.logs() ? LogQuery.FOLLOW_ALL : new LogQuery(-1, from, null, true);
    Thread output =
        Thread.ofVirtual()
            .name("attach-out-" + r.name())
            .start(() -> {
              try {
                vms.logs(r, query, f -> write(out, tty, o, f));
              } catch (IOException e) {
                LOG.log(Level.FINE, "attach client gone", e);
              } catch (InterruptedException e) {
                return; // detached
              }
              // the VM exited and every record was written: the stream is over
              s.close();
            });
    // as Docker: the detach keys apply with a terminal only (piped bytes are data, any of them)
    Options input = tty ? o : new Options(o.stdin(), o.logs(), o.stdinOnce(), null);
    boolean detached = pumpInput(s.input(), forward ? guest.mainStdin() : null, input);
    if (detached) {
      output.interrupt();
      s.close();
      return;
    }
    output.join();
  }

  private static void write(OutputStream out, boolean tty, Options o, Frame f) throws IOException {
    int stream =
        switch (f.kind()) {
          case STDOUT -> o.stdout() ? Multiplexed.STDOUT : 0;
          case STDERR -> o.stderr() ? Multiplexed.STDERR : 0;
          default -> 0;
        };
    if (stream == 0) {
      return;
    }
    if (tty) {
      out.write(f.payload());
    } else {
      Multiplexed.write(out, stream, f.payload());
    }
  }

  /**
   * @return true when the client typed the detach keys
   */
  private static boolean pumpInput(InputStream in, OutputStream stdin, Options o) {
    byte[] buf = new byte[32 << 10];
    ByteArrayOutputStream pass = new ByteArrayOutputStream();
    try {
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        pass.reset();
        boolean detach = o.keys() != null && o.keys().scan(buf, 0, n, pass);
        if (o.keys() == null) {
          pass.write(buf, 0, n);
        }
        if (stdin != null && pass.size() > 0) {
          stdin.write(pass.toByteArray());
          stdin.flush();
        }
        if (detach) {
          return true;
        }
      }
      byte[] rest = o.keys() == null ? new byte[0] : o.keys().pending();
      if (stdin != null) {
        stdin.write(rest);
        if (o.stdinOnce()) {
          stdin.close(); // run -i: the end of the client's input is the workload's
        } else {
          stdin.flush();
        }
      }
    } catch (IOException e) {
      LOG.log(Level.FINE, "attach input ended", e);
    }
    return false;
  }
}
