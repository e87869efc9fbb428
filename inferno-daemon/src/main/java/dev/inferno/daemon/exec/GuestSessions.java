package dev.inferno.daemon.exec;

import dev.inferno.daemon.vm.ApiException;
import dev.inferno.kiln.exec.ExecProcess;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.ExecStartException;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.protocol.ExitReport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * The guest's one-shot sessions (stat, archive get/put, top) as both APIs serve them: the inferno
 * API's {@code /v1/vms/{id}/archive} and Docker's {@code /containers/{id}/archive} call these, so a
 * copy has one implementation. The daemon relays archive bytes and never unpacks a tar on the host.
 */
public final class GuestSessions {
  private GuestSessions() {}

  /** A session's whole output by stream, and its exit. */
  public record Collected(byte[] stdout, String stderr, ExitReport exit) {}

  /**
   * Opens a session that reads nothing; a refusal becomes the API's error (the guest's "no such
   * file or directory" is 404).
   */
  public static ExecProcess open(GuestExec guest, ExecRequest req) throws Exception {
    try {
      return guest.open(req);
    } catch (ExecStartException e) {
      String msg = e.getMessage();
      if (msg != null && msg.contains("no such")) {
        throw ApiException.notFound(msg);
      }
      throw ApiException.badRequest(msg);
    } catch (IOException e) {
      throw ApiException.conflict("the VM's session channel is not available: " + e.getMessage());
    }
  }

  /** Reads a session to its end. */
  public static Collected collect(ExecProcess p) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (p) {
      for (ExecProcess.Output o = p.read(); o != null; o = p.read()) {
        (o.stream() == 2 ? err : out).write(o.bytes());
      }
      return new Collected(out.toByteArray(), err.toString(StandardCharsets.UTF_8), p.exit().get());
    } catch (ExecutionException e) {
      throw ApiException.internal("the guest's session failed: " + e.getCause().getMessage(), e);
    }
  }

  /**
   * The guest's processes as JSON in Docker's top shape ({@code {"Titles":[…],"Processes":[[…]]}},
   * PROTOCOL.md §10), for both APIs' top.
   */
  public static byte[] top(GuestExec guest) throws Exception {
    Collected c = collect(open(guest, new ExecRequest.Top()));
    if (c.exit().code() != 0) {
      throw ApiException.internal(
          "the guest could not list its processes: " + c.stderr().trim(), null);
    }
    return c.stdout();
  }

  /**
   * The stat JSON of a path in the guest (Docker's {@code X-Docker-Container-Path-Stat} shape),
   * base64 for the header; 404 when the path does not exist.
   */
  public static String stat(GuestExec guest, String path) throws Exception {
    Collected c = collect(open(guest, new ExecRequest.Stat(path)));
    if (c.exit().code() != 0) {
      throw ApiException.notFound(c.exit().error() != null ? c.exit().error() : c.stderr().trim());
    }
    return Base64.getEncoder().encodeToString(c.stdout());
  }

  /**
   * Streams the tar of {@code path} to the stream {@code start} opens (called once the guest has
   * started the session, so a refusal is still a plain error response).
   */
  public static void archiveGet(GuestExec guest, String path, Supplier<OutputStream> start)
      throws Exception {
    ExecProcess p = open(guest, new ExecRequest.ArchiveGet(path));
    try (p) {
      OutputStream out = start.get();
      StringBuilder err = new StringBuilder();
      for (ExecProcess.Output o = p.read(); o != null; o = p.read()) {
        if (o.stream() == 1) {
          out.write(o.bytes());
        } else {
          err.append(new String(o.bytes(), StandardCharsets.UTF_8));
        }
      }
      ExitReport exit = p.exit().get();
      if (exit.code() != 0) {
        throw new IOException(
            "the guest's archive of " + path + " failed (exit " + exit.code() + "): " + err);
      }
      out.flush();
    }
  }

  /**
   * Unpacks the tar read from {@code body} into the existing directory {@code path} in the guest;
   * 400 with the guest's reason when it refuses.
   */
  public static void archivePut(GuestExec guest, String path, Supplier<InputStream> body)
      throws Exception {
    ExecProcess p = open(guest, new ExecRequest.ArchivePut(path));
    Thread copy =
        Thread.ofVirtual()
            .start(() -> {
              try (InputStream in = body.get();
                  OutputStream stdin = p.stdin()) {
                in.transferTo(stdin);
              } catch (IOException | RuntimeException e) {
                // the guest refused the archive (its reason comes from stream 2) or the client left
              }
            });
    Collected c = collect(p);
    copy.join();
    if (c.exit().code() != 0) {
      String why = !c.stderr().isBlank() ? c.stderr().trim() : c.exit().error();
      throw ApiException.badRequest("the VM refused the archive: " + why);
    }
  }
}
