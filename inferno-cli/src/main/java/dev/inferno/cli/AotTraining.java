package dev.inferno.cli;

import dev.inferno.model.ApiError;
import dev.inferno.model.Created;
import dev.inferno.model.RunRequest;
import dev.inferno.model.VmSummary;
import dev.inferno.model.json.Json;
import dev.inferno.model.stream.Frame;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine;

/**
 * The training run bin/inferno records the JDK AOT cache from ({@code -XX:AOTCacheOutput}): it
 * parses every command's options and exercises the client, JSON and frame code without a daemon, so
 * every later command starts with those classes already loaded and linked.
 */
public final class AotTraining {
  private AotTraining() {}

  public static void main(String[] args) throws IOException {
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
    // a full command against no daemon: the error path every command shares
    StringWriter sink = new StringWriter();
    System.setProperty("inferno.training", "1");
    Main.run(
        new String[] {"--socket", Path.of("/nonexistent/inferno.sock").toString(), "ps"},
        new PrintWriter(sink),
        new PrintWriter(sink));
    // the record codec on the shapes ps, inspect and run read and write
    VmSummary vm =
        Json.readList(
                "[{\"id\":\"0123456789abcdef\",\"name\":\"n\",\"image\":\"docker.io/library/busybox:latest\","
                    + "\"command\":[\"sh\"],\"state\":\"exited\",\"createdAt\":\"2026-11-28T19:00:00Z\","
                    + "\"startedAt\":\"2026-11-28T19:00:01.5Z\",\"finishedAt\":\"2026-11-28T19:00:02Z\","
                    + "\"exit\":{\"code\":0,\"signal\":null,\"oom\":false,\"reason\":null,"
                    + "\"finishedAt\":\"2026-11-28T19:00:02Z\"}}]",
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
    Json.pretty(List.of(vm));
    Json.write(vm);
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
    // what every command does besides: read the environment (its first read initialises classes
    // of its own) and leave through System.exit (which loads the JDK's logging to log the exit)
    System.getenv("INFERNO_SOCKET");
    System.exit(0);
  }
}
