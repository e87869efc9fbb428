package dev.inferno.daemon.exec;

import dev.inferno.daemon.api.UpgradedStream;
import dev.inferno.daemon.store.VmRecord;
import dev.inferno.daemon.vm.ApiException;
import dev.inferno.daemon.vm.VmService;
import dev.inferno.kiln.exec.ExecProcess;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.ExecStartException;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.kiln.run.DockerRun;
import dev.inferno.kiln.run.ExecOverrides;
import dev.inferno.model.ExecCreateRequest;
import dev.inferno.model.ExecDetail;
import dev.inferno.model.stream.Multiplexed;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Docker's exec in a running VM: create (merged with the VM's config by kiln's {@link
 * DockerRun#exec}), start over an upgraded stream or detached, resize, inspect. Execs live in
 * memory and are forgotten with their VM; a daemon restart ends them (the guest kills the execs of
 * a session channel that drops).
 */
public final class ExecService {
  private static final Logger LOG = Logger.getLogger(ExecService.class.getName());
  private static final SecureRandom RANDOM = new SecureRandom();

  private final VmService vms;
  private final Map<String, Exec> execs = new ConcurrentHashMap<>();

  public ExecService(VmService vms) {
    this.vms = vms;
    vms.onRemove(vmId -> execs.values().removeIf(e -> e.vmId.equals(vmId)));
  }

  /** One exec: its request, then what became of it. */
  static final class Exec {
    final String id;
    final String vmId;
    final ExecRequest.Command request;
    private boolean started;
    private boolean running;
    private Integer exitCode;
    private Integer pid;
    private String error;
    private ExecProcess process;

    Exec(String id, String vmId, ExecRequest.Command request) {
      this.id = id;
      this.vmId = vmId;
      this.request = request;
    }

    synchronized ExecDetail detail() {
      return new ExecDetail(
          id, vmId, running, exitCode, pid, error, request.argv(), request.tty(), request.stdin());
    }

    synchronized void begin() {
      if (started) {
        throw ApiException.conflict("exec " + id + " was started already: create another");
      }
      started = true;
    }

    synchronized void running(ExecProcess p) {
      process = p;
      pid = p.pid();
      running = true;
    }

    synchronized void ended(int code, String why) {
      running = false;
      exitCode = code;
      error = why;
      process = null;
    }

    synchronized ExecProcess process() {
      return process;
    }
  }

  /** Records a new exec in a running VM; nothing runs yet. */
  public ExecDetail create(String vmRef, ExecCreateRequest req) {
    VmRecord r = vms.resolve(vmRef);
    if (req.cmd() == null || req.cmd().isEmpty()) {
      throw ApiException.badRequest("no command given: cmd is required and must not be empty");
    }
    if (req.env() != null) {
      for (String kv : req.env()) {
        if (kv == null || kv.indexOf('=') <= 0) {
          throw ApiException.badRequest(
              "invalid environment entry \"" + kv + "\": expected KEY=VALUE");
        }
      }
    }
    if (req.workdir() != null && !req.workdir().isEmpty() && !req.workdir().startsWith("/")) {
      throw ApiException.badRequest(
          "invalid workdir \"" + req.workdir() + "\": it must be an absolute path");
    }
    int[] size = VmService.consoleSize(req.consoleSize());
    vms.guest(r); // 409 unless it runs
    ExecRequest.Command cmd;
    try {
      cmd =
          DockerRun.exec(
              VmService.merged(r),
              VmService.hostname(r),
              new ExecOverrides(
                  req.cmd(),
                  req.env(),
                  req.user(),
                  req.workdir(),
                  Boolean.TRUE.equals(req.tty()),
                  Boolean.TRUE.equals(req.stdin()),
                  size));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    String id = HexFormat.of().formatHex(bytes32());
    Exec e = new Exec(id, r.id(), cmd);
    execs.put(id, e);
    return e.detail();
  }

  private static byte[] bytes32() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return b;
  }

  Exec get(String id) {
    Exec e = execs.get(id);
    if (e == null) {
      throw ApiException.notFound("no such exec: " + id);
    }
    return e;
  }

  public ExecDetail inspect(String id) {
    return get(id).detail();
  }

  /** The user an exec runs as (the VM's when the exec named none), as Docker's inspect shows it. */
  public String user(String id) {
    return get(id).request.user();
  }

  /** The media type of an exec's stream. */
  public String mediaType(String id) {
    return get(id).request.tty() ? Multiplexed.RAW_MEDIA_TYPE : Multiplexed.MEDIA_TYPE;
  }

  /**
   * Claims the exec for a start (409 when started before, or its VM no longer runs) and returns the
   * VM's session side.
   */
  public GuestExec claim(String id) {
    Exec e = get(id);
    VmRecord r = vms.resolve(e.vmId);
    GuestExec guest = vms.guest(r);
    e.begin();
    return guest;
  }

  /**
   * A claimed exec after the guest answered: its process, or why it could not start (already
   * recorded, so inspect is right as soon as this returns).
   */
  public static final class Opened {
    private final Exec exec;
    private final ExecProcess process;

    Opened(Exec exec, ExecProcess process) {
      this.exec = exec;
      this.process = process;
    }
  }

  /** Opens the claimed exec's session in the guest and records what came of it. */
  public Opened open(String id, GuestExec guest) throws InterruptedException {
    Exec e = get(id);
    return new Opened(e, open(e, guest));
  }

  /** Runs an opened exec without a client: output is read and discarded, the exit recorded. */
  public void runDetached(Opened o) {
    ExecProcess p = o.process;
    Exec e = o.exec;
    String id = e.id;
    if (p == null) {
      return;
    }
    Thread.ofVirtual()
        .name("exec-" + id)
        .start(() -> {
          try {
            while (p.read() != null) {
              // discarded: credit goes back as it is read
            }
          } catch (IOException | InterruptedException ex) {
            LOG.log(Level.FINE, "detached exec " + id, ex);
          }
          finish(e, p);
        });
  }

  /**
   * Serves a claimed exec over an upgraded stream: the client's bytes to its stdin (EOF at the
   * half-close), its output back (raw with a terminal, else multiplexed); the exit is recorded
   * before the stream ends, so the client reads it from inspect right after.
   */
  public void serve(Opened opened, UpgradedStream s) throws Exception {
    serve(opened, s.input(), s.output());
  }

  /**
   * As {@link #serve(Opened, UpgradedStream)} over any pair of streams: Docker clients that start
   * an exec without asking for an upgrade (docker-java without stdin) read the output from a plain
   * response, with no input ({@code in} at EOF).
   */
  public void serve(Opened opened, InputStream in, OutputStream out) throws Exception {
    Exec e = opened.exec;
    String id = e.id;
    boolean tty = e.request.tty();
    ExecProcess p = opened.process;
    if (p == null) {
      // the guest could not start it: the error line, as Docker prints it, then the end
      writeError(out, tty, e.detail().error());
      out.close();
      return;
    }
    Thread input =
        Thread.ofVirtual()
            .name("exec-stdin-" + id)
            .start(() -> pumpStdin(in, e.request.stdin() ? p.stdin() : null));
    try {
      for (ExecProcess.Output o = p.read(); o != null; o = p.read()) {
        if (tty) {
          out.write(o.bytes());
        } else {
          Multiplexed.write(out, o.stream() == 2 ? 2 : 1, o.bytes());
        }
      }
    } catch (IOException ex) {
      // the client went away: the exec runs on, as Docker's does; its output is discarded
      LOG.log(Level.FINE, "exec " + id + " client gone", ex);
      p.close();
    }
    finish(e, p);
    input.interrupt();
    out.close();
  }

  /** The client's input to the exec's stdin (or dropped without one); EOF at the half-close. */
  private static void pumpStdin(InputStream in, OutputStream stdin) {
    byte[] buf = new byte[32 << 10];
    try {
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        if (stdin != null) {
          stdin.write(buf, 0, n);
          stdin.flush();
        }
      }
    } catch (IOException ex) {
      // the client or the session went away
    } finally {
      if (stdin != null) {
        try {
          stdin.close();
        } catch (IOException ex) {
          // the session is gone already
        }
      }
    }
  }

  private ExecProcess open(Exec e, GuestExec guest) throws InterruptedException {
    try {
      ExecProcess p = guest.open(e.request);
      e.running(p);
      return p;
    } catch (ExecStartException ex) {
      e.ended(ex.report().code(), ex.getMessage());
    } catch (IOException ex) {
      e.ended(126, "cannot start the exec: " + ex.getMessage());
    }
    return null; // recorded
  }

  private static void finish(Exec e, ExecProcess p) {
    try {
      ExitReport r = p.exit().get();
      e.ended(r.code(), r.error());
    } catch (ExecutionException ex) {
      e.ended(137, "the exec's session ended: " + ex.getCause().getMessage());
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      e.ended(137, "the daemon stopped waiting for the exec");
    } finally {
      p.close();
    }
  }

  private static void writeError(OutputStream out, boolean tty, String message) throws IOException {
    byte[] line =
        (message.endsWith("\n") ? message : message + "\n").getBytes(StandardCharsets.UTF_8);
    if (tty) {
      out.write(line);
    } else {
      Multiplexed.write(out, Multiplexed.STDERR, line);
    }
  }

  /** Resizes a running exec's terminal. */
  public void resize(String id, int rows, int cols) throws IOException {
    Exec e = get(id);
    ExecProcess p = e.process();
    if (p == null) {
      throw ApiException.conflict("exec " + id + " is not running");
    }
    p.resize(rows, cols);
  }
}
