package dev.inferno.cli;

import dev.inferno.model.ApiError;
import dev.inferno.model.Created;
import dev.inferno.model.ExitRecord;
import dev.inferno.model.ImageSummary;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmState;
import dev.inferno.model.VmSummary;
import dev.inferno.model.json.Json;
import dev.inferno.model.stream.Frame;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;

/**
 * The training runs bin/inferno records the JDK AOT caches from ({@code -XX:AOTCacheOutput}).
 * {@code all}: parses every command's options, runs the common commands against a stand-in for the
 * daemon on a unix socket, and exercises the JSON and frame code, so every later command starts
 * with those classes already loaded and linked. {@code hot}: only the verbs that run without
 * picocli ({@link Main#leanCommand}), for a cache with a third fewer classes, which the JVM maps at
 * every start.
 */
public final class AotTraining {
  private AotTraining() {}

  public static void main(String[] args) throws IOException {
    boolean all = !(args.length > 0 && args[0].equals("hot"));
    if (all) {
      for (String[] line :
          List.of(
              new String[] {"ps", "-a", "--format", "json"},
              new String[] {
                "run", "-d", "--rm", "--name", "x1", "-e", "A=B", "-m", "512m", "busybox", "echo",
                "hi"
              },
              new String[] {"logs", "-f", "-t", "--tail", "5", "--since", "10m", "x1"},
              new String[] {"stop", "-t", "3", "x1"},
              new String[] {"kill", "-s", "TERM", "x1"},
              new String[] {"rm", "-f", "x1"},
              new String[] {"inspect", "x1"},
              new String[] {"images", "--digests"},
              new String[] {"rmi", "busybox"},
              new String[] {"pull", "busybox"},
              new String[] {"version"},
              new String[] {"info"})) {
        CommandLine cl = Main.commandLine();
        cl.parseArgs(line);
      }
    }
    // a full command against no daemon: the error path every command shares
    StringWriter sink = new StringWriter();
    Main.run(
        new String[] {"--socket", Path.of("/nonexistent/inferno.sock").toString(), "ps"},
        new PrintWriter(sink),
        new PrintWriter(sink));
    // and whole commands against a stand-in that answers like the daemon: connecting, the HTTP
    // exchange, decoding and printing load classes (and spin lambdas) of their own
    Path dir = Files.createTempDirectory("inferno-aot");
    Path sock = dir.resolve("s.sock");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(sock));
      Thread.ofPlatform().daemon().start(() -> serve(server));
      for (String[] line :
          List.of(
              new String[] {"ps", "-a"},
              new String[] {"ps", "-a", "--format", "json"},
              new String[] {"run", "-d", "--name", "x1", "busybox", "true"},
              new String[] {"inspect", "x1"},
              new String[] {"logs", "x1"},
              new String[] {"images"})) {
        if (!all && Main.leanCommand(line[0]) == null) {
          continue;
        }
        List<String> full = new ArrayList<>(List.of("--socket", sock.toString()));
        full.addAll(List.of(line));
        Main.run(full.toArray(String[]::new), new PrintWriter(sink), new PrintWriter(sink));
      }
    } finally {
      Files.deleteIfExists(sock);
      Files.deleteIfExists(dir);
    }
    // the record codec on the shapes ps, inspect and run read and write
    VmSummary vm =
        Json.readList(
                "[{\"id\":\"0123456789abcdef\",\"name\":\"n\",\"image\":\"docker.io/library/busybox:latest\","
                    + "\"command\":[\"sh\"],\"state\":\"exited\",\"createdAt\":\"2026-11-28T19:00:00Z\","
                    + "\"startedAt\":\"2026-11-28T19:00:01.5Z\",\"finishedAt\":\"2026-11-28T19:00:02Z\","
                    + "\"exit\":{\"code\":0,\"signal\":null,\"oom\":false,\"reason\":null,"
                    + "\"finishedAt\":\"2026-11-28T19:00:02Z\"},\"ports\":[],\"restartCount\":0,"
                    + "\"health\":null}]",
                VmSummary.class)
            .getFirst();
    Instant now = Instant.now();
    Format.table(
        List.of("VM ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"),
        List.of(
            List.of(
                Format.shortId(vm.id()),
                String.valueOf(vm.image()),
                Format.command(vm.command()),
                Format.ago(vm.createdAt(), now),
                Format.status(vm, now),
                String.valueOf(vm.name()))));
    Json.write(vm);
    // what every command does besides: read the environment (its first read initialises classes
    // of its own); commands leave through Runtime.halt (Main.main), this run returns normally so
    // the JVM writes the cache
    System.getenv("INFERNO_SOCKET");
    if (!all) {
      return;
    }
    Json.pretty(List.of(vm));
    RunRequest req = RunRequest.of("busybox").withCmd(List.of("true")).withPull("never");
    Json.read(Json.write(req), RunRequest.class);
    Json.read("{\"id\":\"0123456789abcdef\",\"name\":\"n\",\"warnings\":[]}", Created.class);
    Json.read("{\"message\":\"no such VM: x\"}", ApiError.class);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    new Frame(Frame.Kind.STDOUT, Frame.nanos(now), new byte[] {'x', '\n'}).writeTo(b);
    Frame.json(Frame.Kind.EXIT, "{\"code\":0}").writeTo(b);
    LogsCommand.copy(
        new ByteArrayInputStream(b.toByteArray()),
        new java.io.PrintStream(new ByteArrayOutputStream()),
        new java.io.PrintStream(new ByteArrayOutputStream()),
        true);
    TimeArgs.query(TimeArgs.parse("1h30m", now));
  }

  /** Answers like the daemon: VMs and images as lists, a created VM, 404 for the rest. */
  private static void serve(ServerSocketChannel server) {
    Instant t = Instant.parse("2026-11-28T19:00:00Z");
    ExitRecord exit = new ExitRecord(0, null, false, null, t);
    List<VmSummary> vms = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      vms.add(
          new VmSummary(
              "0123456789abcde" + i,
              "vm" + i,
              "docker.io/library/busybox:latest",
              List.of("sh", "-c", "echo hello world; exit 0"),
              VmState.EXITED,
              t,
              t,
              t,
              exit,
              List.of()));
    }
    while (server.isOpen()) {
      SocketChannel accepted;
      try {
        accepted = server.accept();
      } catch (IOException e) {
        return; // the server closed: training is over
      }
      try (SocketChannel ch = accepted) {
        InputStream in = Channels.newInputStream(ch);
        String head = head(in);
        int cl = head.toLowerCase(Locale.ROOT).indexOf("content-length: ");
        if (cl >= 0) {
          in.readNBytes(Integer.parseInt(head.substring(cl + 16, head.indexOf('\r', cl)).trim()));
        }
        String path = head.substring(head.indexOf(' ') + 1, head.indexOf(" HTTP/"));
        int status = 200;
        Object body;
        if (head.startsWith("GET /v1/vms?") || head.startsWith("GET /v1/vms ")) {
          body = vms;
        } else if (head.startsWith("POST /v1/vms")) {
          status = 201;
          body = new Created(vms.getFirst().id(), "x1", List.of());
        } else if (path.startsWith("/v1/images/inspect") || path.equals("/v1/images")) {
          ImageSummary img =
              new ImageSummary("docker.io/library/busybox:latest", "sha256:1", "sha256:2", 1L, t);
          body = path.equals("/v1/images") ? List.of(img) : img;
        } else {
          status = 404;
          body = new ApiError("no such VM: x1");
        }
        byte[] b = Json.write(body).getBytes(StandardCharsets.UTF_8);
        OutputStream out = Channels.newOutputStream(ch);
        out.write(
            ("HTTP/1.1 "
                    + status
                    + " X\r\nContent-Type: application/json\r\nContent-Length: "
                    + b.length
                    + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.write(b);
        out.flush();
      } catch (IOException | RuntimeException e) {
        // one bad exchange must not leave the next command waiting on a server that is gone
        e.printStackTrace();
      }
    }
  }

  private static String head(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int c = in.read(); c >= 0; c = in.read()) {
      sb.append((char) c);
      if (sb.length() >= 4 && sb.lastIndexOf("\r\n\r\n") == sb.length() - 4) {
        break;
      }
    }
    return sb.toString();
  }
}
