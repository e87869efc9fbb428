package dev.inferno.kiln.guest;

import static dev.inferno.kiln.guest.GuestLinkTest.VM;
import static dev.inferno.kiln.guest.GuestLinkTest.connect;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.exec.ExecProcess;
import dev.inferno.kiln.exec.ExecRequest;
import dev.inferno.kiln.exec.ExecStartException;
import dev.inferno.kiln.exec.GuestExec;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.kiln.protocol.Frame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host side of the session channel against a fake init that speaks PROTOCOL.md §10 frame by
 * frame: exec round trips, credit both ways, multiplexing, reconnects and the VM going away.
 */
class SessionClientTest {
  static final int W = SessionClient.INITIAL_WINDOW;
  static final ExitReport DONE = new ExitReport(3, null, false, 1, 2, null);

  @TempDir Path dir;
  final List<AutoCloseable> cleanup = new ArrayList<>();
  GuestTransport.VirtioSerial transport;
  GuestLink link;

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : cleanup.reversed()) {
      c.close();
    }
  }

  <C extends AutoCloseable> C track(C c) {
    cleanup.add(c);
    return c;
  }

  GuestExec exec() throws IOException {
    transport = new GuestTransport.VirtioSerial(dir.resolve("sock"));
    LogStore store = track(LogStore.open(dir.resolve("logs"), LogStore.Options.defaults()));
    link = track(GuestLink.start(new GuestLink.Config(VM, transport, store, dir.resolve("x"))));
    return link.exec();
  }

  /** What QEMU does when init opens its port: a connection to session.sock; init says HELLO. */
  FakeInitSession guest() throws IOException {
    FakeInitSession g =
        track(
            new FakeInitSession(
                connect(transport.listenPath(dev.inferno.kiln.protocol.Channel.SESSION))));
    return g.hello(VM);
  }

  static ExecRequest.Command cmd(boolean stdin, boolean tty) {
    return new ExecRequest.Command(
        List.of("sh", "-c", "cat"), List.of("PATH=/bin"), null, "/", tty, stdin, null);
  }

  /** Opens {@code req} on another thread and plays init's STARTED for it. */
  static ExecProcess open(GuestExec exec, FakeInitSession g, ExecRequest req, int pid)
      throws Exception {
    Future<ExecProcess> p = CompletableFuture.supplyAsync(() -> call(() -> exec.open(req)));
    Frame.Open o = g.next(Frame.Open.class);
    assertThat(o.json()).isEqualTo(req.toJson());
    g.send(new Frame.Started(o.session(), pid));
    ExecProcess proc = p.get(10, TimeUnit.SECONDS);
    assertThat(proc.session()).isEqualTo(o.session());
    assertThat(proc.pid()).isEqualTo(pid);
    return proc;
  }

  interface Call<T> {
    T call() throws Exception;
  }

  static <T> T call(Call<T> c) {
    try {
      return c.call();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }

  /** Sends {@code b} as DATA frames of at most {@link Frame.Data#MAX_DATA} bytes. */
  static void output(FakeInitSession g, int session, int stream, byte[] b) throws IOException {
    for (int off = 0; off < b.length; off += Frame.Data.MAX_DATA) {
      int n = Math.min(Frame.Data.MAX_DATA, b.length - off);
      g.send(new Frame.Data(session, stream, Arrays.copyOfRange(b, off, off + n)));
    }
  }

  /** Reads {@code n} bytes of one stream. */
  static byte[] read(ExecProcess p, int stream, int n) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (out.size() < n) {
      ExecProcess.Output o = p.read();
      assertThat(o).as("output after %d of %d bytes", out.size(), n).isNotNull();
      assertThat(o.stream()).isEqualTo(stream);
      out.writeBytes(o.bytes());
    }
    return out.toByteArray();
  }

  /** The WINDOW frames kiln sends for (session, stream) until they add up to {@code n}. */
  static void granted(FakeInitSession g, int session, int stream, long n) throws Exception {
    long sum = 0;
    while (sum < n) {
      Frame.Window w = g.next(Frame.Window.class);
      assertThat(List.of(w.session(), w.stream())).containsExactly(session, stream);
      sum += w.bytes();
    }
    assertThat(sum).isEqualTo(n);
  }

  @Test
  void anExecRoundTrip() throws Exception {
    GuestExec exec = exec();
    FakeInitSession g = guest();
    ExecRequest.Command req = cmd(true, false);
    ExecProcess p = open(exec, g, req, 42);
    assertThat(p.session()).isEqualTo(1);

    p.stdin().write("hello\n".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(g.stdin(1, 6), StandardCharsets.UTF_8)).isEqualTo("hello\n");
    p.stdin().close();
    assertThat(g.next(Frame.Eof.class)).isEqualTo(new Frame.Eof(1, 0));
    p.resize(50, 132);
    assertThat(g.next(Frame.Resize.class)).isEqualTo(new Frame.Resize(1, 50, 132));
    p.signal(15);
    assertThat(g.next(Frame.Signal.class)).isEqualTo(new Frame.Signal(1, 15));

    g.send(new Frame.Data(1, 1, "out".getBytes(StandardCharsets.UTF_8)));
    g.send(new Frame.Data(1, 2, "err!".getBytes(StandardCharsets.UTF_8)));
    ExecProcess.Output o = p.read();
    assertThat(o.stream()).isEqualTo(1);
    assertThat(new String(o.bytes(), StandardCharsets.UTF_8)).isEqualTo("out");
    assertThat(g.next(Frame.Window.class)).isEqualTo(new Frame.Window(1, 1, 3));
    o = p.read();
    assertThat(o.stream()).isEqualTo(2);
    assertThat(g.next(Frame.Window.class)).isEqualTo(new Frame.Window(1, 2, 4));
    // the last bytes, then CLOSED: read after it, they need no credit any more
    g.send(new Frame.Data(1, 1, "bye".getBytes(StandardCharsets.UTF_8)));
    g.send(new Frame.Eof(1, 1)).send(new Frame.Eof(1, 2)).send(new Frame.Closed(1, DONE));
    assertThat(p.exit().get(10, TimeUnit.SECONDS)).isEqualTo(DONE);
    assertThat(p.read().bytes()).isEqualTo("bye".getBytes(StandardCharsets.UTF_8));
    assertThat(p.read()).isNull();
    assertThat(g.poll(100)).as("no WINDOW for a closed session").isNull();

    // a second session gets the next id; late frames of the finished one are ignored
    g.send(new Frame.Data(1, 1, new byte[] {1}));
    ExecProcess second = open(exec, g, new ExecRequest.Top(), 43);
    assertThat(second.session()).isEqualTo(2);
    assertThatThrownBy(() -> second.stdin().write(1))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("without stdin");
  }

  @Test
  void aCommandThatCannotStartIsAnExecStartExceptionWithInitsReport() throws Exception {
    GuestExec exec = exec();
    FakeInitSession g = guest();
    Future<ExecProcess> p =
        CompletableFuture.supplyAsync(() -> call(() -> exec.open(cmd(false, false))));
    Frame.Open o = g.next(Frame.Open.class);
    ExitReport notFound =
        new ExitReport(
            127, null, false, 0, 0, "exec: \"nosuch\": executable file not found in $PATH");
    g.send(new Frame.Closed(o.session(), notFound));
    assertThatThrownBy(() -> p.get(10, TimeUnit.SECONDS))
        .cause()
        .cause()
        .isInstanceOf(ExecStartException.class)
        .hasMessage("exec: \"nosuch\": executable file not found in $PATH")
        .satisfies(e -> assertThat(((ExecStartException) e).report()).isEqualTo(notFound));
  }

  @Test
  void aSlowReaderStallsOnlyItsOwnSessionAndGetsExactlyItsWindow() throws Exception {
    GuestExec exec = exec();
    FakeInitSession g = guest();
    ExecProcess slow = open(exec, g, cmd(false, false), 10);
    ExecProcess fast = open(exec, g, cmd(false, false), 11);
    byte[] a = bytes(W, 1);
    output(g, 1, 1, a); // the whole window, nobody reads it yet
    output(g, 1, 1, bytes(1000, 9)); // beyond the credit: a protocol error, discarded
    // interleaved with the stalled session, the other one flows: the reader thread is not blocked
    for (int round = 0; round < 5; round++) {
      byte[] b = bytes(W, round);
      output(g, 2, 2, b);
      assertThat(read(fast, 2, W)).isEqualTo(b);
      granted(g, 2, 2, W);
    }
    assertThat(g.poll(100)).as("no credit for the session nobody read").isNull();
    assertThat(read(slow, 1, W)).isEqualTo(a);
    granted(g, 1, 1, W);
    assertThat(link.stats().discardedBytes()).isEqualTo(1000);
    g.send(new Frame.Closed(1, DONE)).send(new Frame.Closed(2, DONE));
    assertThat(slow.read()).as("the bytes beyond the credit were dropped").isNull();
    assertThat(fast.read()).isNull();
  }

  @Test
  void stdinWritesWaitForTheGuestsCredit() throws Exception {
    GuestExec exec = exec();
    FakeInitSession g = guest();
    ExecProcess p = open(exec, g, cmd(true, false), 7);
    byte[] in = bytes(W + 10, 3);
    Future<?> writer =
        CompletableFuture.runAsync(() ->
            call(() -> {
              p.stdin().write(in);
              return null;
            }));
    byte[] first = g.stdin(1, W);
    assertThat(first).isEqualTo(Arrays.copyOf(in, W));
    assertThat(g.poll(200)).as("nothing beyond the credit").isNull();
    assertThat(writer.isDone()).isFalse();
    g.send(new Frame.Window(1, 0, 4));
    assertThat(g.stdin(1, 4)).isEqualTo(Arrays.copyOfRange(in, W, W + 4));
    g.send(new Frame.Window(1, 0, 100));
    assertThat(g.stdin(1, 6)).isEqualTo(Arrays.copyOfRange(in, W + 4, W + 10));
    writer.get(10, TimeUnit.SECONDS);
  }

  @Test
  void closingAProcessDiscardsItsOutputAndKeepsGrantingCredit() throws Exception {
    GuestExec exec = exec();
    FakeInitSession g = guest();
    ExecProcess p = open(exec, g, cmd(false, false), 5);
    ExecProcess barrier = open(exec, g, cmd(false, false), 6);
    output(g, 1, 1, bytes(5000, 1));
    output(g, 1, 2, bytes(700, 2));
    // one reader takes the frames in order: once session 2's byte is read, session 1's are buffered
    g.send(new Frame.Data(2, 1, new byte[] {1}));
    assertThat(barrier.read().bytes()).containsExactly(1);
    assertThat(g.next(Frame.Window.class)).isEqualTo(new Frame.Window(2, 1, 1));
    p.close();
    List<Frame.Window> grants = List.of(g.next(Frame.Window.class), g.next(Frame.Window.class));
    assertThat(grants)
        .containsExactlyInAnyOrder(new Frame.Window(1, 1, 5000), new Frame.Window(1, 2, 700));
    // more output comes back as credit at once, so the process never blocks on the gone reader
    for (int i = 0; i < 3; i++) {
      output(g, 1, 1, bytes(W, i));
      granted(g, 1, 1, W);
    }
    assertThat(p.read()).isNull();
    g.send(new Frame.Closed(1, DONE));
    assertThat(p.exit().get(10, TimeUnit.SECONDS)).isEqualTo(DONE);
  }

  @Test
  void mainStdinWaitsForTheGuestThenForCreditAndStartsAfreshOnAReconnect() throws Exception {
    GuestExec exec = exec();
    OutputStream stdin = exec.mainStdin();
    assertThat(exec.mainStdin()).isSameAs(stdin);
    byte[] in = bytes(W + 20, 5);
    Future<?> writer =
        CompletableFuture.runAsync(() ->
            call(() -> {
              stdin.write(in);
              stdin.close();
              return null;
            }));
    Thread.sleep(100); // the writer waits for a connection
    assertThat(writer.isDone()).isFalse();
    FakeInitSession g = guest();
    assertThat(g.stdin(0, W)).isEqualTo(Arrays.copyOf(in, W));
    assertThat(g.poll(200)).isNull();
    // an exec open on this connection fails when it breaks; session 0 goes on with the next one
    ExecProcess p = open(exec, g, cmd(true, false), 9);
    g.close();
    assertThat(p.exit().get(10, TimeUnit.SECONDS))
        .satisfies(r -> {
          assertThat(r.code()).isEqualTo(137);
          assertThat(r.error()).isEqualTo("the session channel closed");
        });
    assertThat(p.read()).isNull();
    assertThatThrownBy(() -> p.stdin().write(1))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("the session channel closed");
    FakeInitSession again = guest();
    assertThat(again.stdin(0, 20)).isEqualTo(Arrays.copyOfRange(in, W, W + 20));
    assertThat(again.next(Frame.Eof.class)).isEqualTo(new Frame.Eof(0, 0));
    writer.get(10, TimeUnit.SECONDS);
    exec.resizeMain(40, 100);
    assertThat(again.next(Frame.Resize.class)).isEqualTo(new Frame.Resize(0, 40, 100));
    // session ids are per connection: the new one starts at 1 again
    assertThat(open(exec, again, new ExecRequest.Stat("/etc"), 3).session()).isEqualTo(1);
  }

  @Test
  void aSecondHelloOnTheSameConnectionIsAReconnectAsInitSawIt() throws Exception {
    GuestExec exec = exec();
    FakeInitSession g = guest();
    ExecProcess p = open(exec, g, cmd(false, false), 4);
    exec.mainStdin().write(bytes(W, 1));
    assertThat(g.stdin(0, W)).hasSize(W);
    g.hello(VM);
    assertThat(p.exit().get(10, TimeUnit.SECONDS).error()).isEqualTo("the session channel closed");
    exec.mainStdin().write(bytes(10, 2)); // credit started afresh: no WINDOW needed
    assertThat(g.stdin(0, 10)).isEqualTo(bytes(10, 2));
    assertThat(open(exec, g, new ExecRequest.Top(), 5).session())
        .as("ids are never reused on one connection")
        .isEqualTo(2);
  }

  @Test
  void aGuestThatHasNotSaidHelloGetsNothing() throws Exception {
    GuestExec exec = exec();
    FakeInitSession g =
        track(
            new FakeInitSession(
                connect(transport.listenPath(dev.inferno.kiln.protocol.Channel.SESSION))));
    Future<?> writer =
        CompletableFuture.runAsync(() ->
            call(() -> {
              exec.mainStdin().write(new byte[] {'x'});
              return null;
            }));
    assertThat(g.poll(200)).as("virtio-serial drops what the host writes before HELLO").isNull();
    g.hello(VM);
    assertThat(g.stdin(0, 1)).containsExactly('x');
    writer.get(10, TimeUnit.SECONDS);
  }

  @Test
  void theVmGoingAwayEndsEverySessionWith137() throws Exception {
    GuestExec exec = exec();
    FakeInitSession g = guest();
    ExecProcess p = open(exec, g, cmd(true, true), 9);
    g.send(new Frame.Data(1, 1, new byte[] {'$', ' '}));
    link.close();
    ExitReport r = p.exit().get(10, TimeUnit.SECONDS);
    assertThat(r.code()).isEqualTo(137);
    assertThat(r.signal()).isEqualTo(9);
    assertThat(r.error()).isEqualTo("the VM stopped");
    assertThatThrownBy(() -> exec.mainStdin().write(1))
        .isInstanceOf(IOException.class)
        .hasMessage("the VM stopped");
    assertThatThrownBy(() -> exec.open(new ExecRequest.Top()))
        .isInstanceOf(IOException.class)
        .hasMessage("the VM stopped");
    assertThatThrownBy(() -> exec.resizeMain(1, 1)).hasMessage("the VM stopped");
  }

  @Test
  void theChannelDroppingAfterTheMainProcessExitedIsTheVmStopping() throws Exception {
    GuestExec exec = exec();
    FakeInitSession g = guest();
    ExecProcess p = open(exec, g, cmd(false, false), 9);
    link.recordExit(new ExitReport(0, null, false, 1, 2, null));
    g.close(); // init's shutdown: the guest reboots
    ExitReport r = p.exit().get(10, TimeUnit.SECONDS);
    assertThat(r.code()).isEqualTo(137);
    assertThat(r.error()).isEqualTo("the VM stopped");
  }

  @Test
  void aTerminalSessionEndsItsOutputWithStdoutsEof() throws Exception {
    GuestExec exec = exec();
    FakeInitSession g = guest();
    ExecProcess p = open(exec, g, cmd(true, true), 9);
    g.send(new Frame.Data(1, 1, new byte[] {'#'})).send(new Frame.Eof(1, 1));
    assertThat(p.read().bytes()).containsExactly('#');
    assertThat(p.read()).isNull();
  }

  @Test
  void overVsockKilnDialsConnectWithTheSessionPort() throws Exception {
    Path uds = dir.resolve("v.sock");
    CompletableFuture<FakeInitSession> guest = new CompletableFuture<>();
    FakeFirecrackerVsock fc =
        track(
            new FakeFirecrackerVsock(
                uds,
                2,
                c -> {
                  FakeInitSession g = new FakeInitSession(c);
                  guest.complete(g);
                  return g;
                }));
    LogStore store = track(LogStore.open(dir.resolve("logs"), LogStore.Options.defaults()));
    link =
        track(
            GuestLink.start(
                new GuestLink.Config(
                    VM, new GuestTransport.HybridVsock(uds), store, dir.resolve("x"))));
    GuestExec exec = link.exec();
    Future<ExecProcess> p =
        CompletableFuture.supplyAsync(() -> call(() -> exec.open(new ExecRequest.Top())));
    FakeInitSession g = track(guest.get(10, TimeUnit.SECONDS));
    Frame.Open o = g.next(Frame.Open.class);
    assertThat(o.json()).isEqualTo("{\"kind\":\"top\"}");
    g.send(new Frame.Started(o.session(), 77));
    assertThat(p.get(10, TimeUnit.SECONDS).pid()).isEqualTo(77);
    assertThat(fc.requests).containsOnly("CONNECT 10004");
    assertThat(fc.attempts).hasValue(3); // two refusals (init not listening yet), then OK
    exec.resizeMain(2, 3);
    assertThat(g.next(Frame.Resize.class)).isEqualTo(new Frame.Resize(0, 2, 3));
    assertThat(fc.attempts).as("the connection is kept").hasValue(3);
  }
}
