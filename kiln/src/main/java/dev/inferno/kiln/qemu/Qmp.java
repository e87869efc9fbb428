package dev.inferno.kiln.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferno.kiln.vm.VmmException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A QEMU Machine Protocol client for one command at a time (docs/interop/qmp-spec in QEMU): connect
 * to the VM's QMP socket, read the greeting, negotiate with {@code qmp_capabilities}, execute, hang
 * up. Asynchronous events that arrive in between are skipped. QEMU serves one QMP client at a time
 * on the socket, so every call opens and closes its own connection.
 */
public final class Qmp {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path socket;
  private final Duration timeout;

  public Qmp(Path socket, Duration timeout) {
    this.socket = socket;
    this.timeout = timeout;
  }

  /** Pauses every vCPU ({@code stop}). */
  public void stop() throws VmmException {
    execute("stop");
  }

  /** Resumes the vCPUs ({@code cont}). */
  public void cont() throws VmmException {
    execute("cont");
  }

  /** The run state of {@code query-status}: "running", "paused", "shutdown" … */
  public String status() throws VmmException {
    return execute("query-status").path("status").asText();
  }

  /**
   * Runs one command without arguments and returns its {@code return} value; an {@code error}
   * reply, a closed socket or no answer within the timeout is a {@link VmmException} naming the
   * command.
   */
  public JsonNode execute(String command) throws VmmException {
    FutureTask<JsonNode> call = new FutureTask<>(() -> exchange(command));
    Thread t = Thread.ofVirtual().name("kiln-qmp").start(call);
    try {
      return call.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      t.interrupt(); // closes the channel, which ends the blocked read
      throw new VmmException(
          "QMP " + command + " on " + socket + ": QEMU did not answer within " + timeout, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof VmmException v) {
        throw v;
      }
      throw new VmmException("QMP " + command + " on " + socket + " failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      t.interrupt();
      throw new VmmException("interrupted during QMP " + command, e);
    }
  }

  private JsonNode exchange(String command) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      try {
        ch.connect(UnixDomainSocketAddress.of(socket));
      } catch (IOException e) {
        throw new VmmException(
            "QMP " + command + ": cannot connect to " + socket + " (is QEMU running?): " + e, e);
      }
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
      OutputStream out = Channels.newOutputStream(ch);
      JsonNode greeting = read(in, command);
      if (!greeting.has("QMP")) {
        throw new VmmException(
            "QMP " + command + ": " + socket + " did not greet with QMP: " + greeting);
      }
      call(in, out, "qmp_capabilities");
      return call(in, out, command);
    }
  }

  private static JsonNode call(BufferedReader in, OutputStream out, String command)
      throws IOException {
    out.write(
        (JSON.createObjectNode().put("execute", command) + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
    while (true) {
      JsonNode reply = read(in, command);
      if (reply.has("event")) {
        continue; // e.g. STOP / RESUME, sent before the command's own reply
      }
      if (reply.has("error")) {
        JsonNode err = reply.get("error");
        throw new VmmException(
            "QMP "
                + command
                + " failed: "
                + err.path("desc").asText()
                + " ("
                + err.path("class").asText()
                + ")");
      }
      if (reply.has("return")) {
        return reply.get("return");
      }
      throw new VmmException("QMP " + command + ": unexpected reply " + reply);
    }
  }

  private static JsonNode read(BufferedReader in, String command) throws IOException {
    String line = in.readLine();
    if (line == null) {
      throw new VmmException("QMP " + command + ": QEMU closed the connection");
    }
    return JSON.readTree(line);
  }
}
