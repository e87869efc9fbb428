package dev.inferno.kiln.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferno.kiln.logs.LogRecord;
import dev.inferno.kiln.logs.LogStore;
import dev.inferno.kiln.protocol.Channel;
import dev.inferno.kiln.protocol.Codec;
import dev.inferno.kiln.protocol.ControlReply;
import dev.inferno.kiln.protocol.ExitReport;
import dev.inferno.kiln.protocol.Frame;
import dev.inferno.kiln.protocol.FrameDecoder;
import dev.inferno.kiln.protocol.GuestMetrics;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestLinkTest {
  static final String VM = "9f86d081884c7d65";
  static final Duration T = Duration.ofSeconds(20);

  @TempDir Path dir;
  final List<AutoCloseable> cleanup = new ArrayList<>();

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

  LogStore store() throws IOException {
    return track(LogStore.open(dir.resolve("logs"), new LogStore.Options(64 << 10, 100, 4096)));
  }

  GuestLink link(GuestTransport t, LogStore s) throws IOException {
    return track(GuestLink.start(new GuestLink.Config(VM, t, s, dir.resolve("exit.json"), null)));
  }

  static byte[] line(long i, Random rnd) {
    StringBuilder sb = new StringBuilder("line ").append(i).append(' ');
    int extra = rnd.nextInt(20) == 0 ? 5000 + rnd.nextInt(20000) : rnd.nextInt(200);
    for (int k = 0; k < extra; k++) {
      sb.append((char) ('a' + (i + k) % 26));
    }
    return sb.append('\n').toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Every seq 1..n of the boot exactly once, in order, with the bytes the guest sent. */
  static void assertExactlyOnce(LogStore s, long boot, int n, long seed) throws IOException {
    Random rnd = new Random(seed);
    List<LogRecord> all = s.cursor(0).drain().stream().filter(r -> r.bootId() == boot).toList();
    assertThat(all).hasSize(n);
    for (int i = 0; i < n; i++) {
      LogRecord r = all.get(i);
      assertThat(r.seq()).isEqualTo(i + 1L);
      assertThat(r.text()).isEqualTo(new String(line(i + 1L, rnd), StandardCharsets.UTF_8));
      assertThat(r.stream()).isEqualTo((i % 2) + 1);
      assertThat(r.guestTimeNs()).isEqualTo(1_000_000_000L * (i + 1));
      assertThat(r.hostTimeNs()).isGreaterThan(0);
    }
  }

  @Test
  void logsArriveExactlyOnceInOrderWhenConnectionsDieMidFrame() throws Exception {
    LogStore s = store();
    GuestTransport t = new GuestTransport.VirtioSerial(dir.resolve("sock"));
    GuestLink link = link(t, s);
    SyntheticGuest g = track(new SyntheticGuest(t.listenPath(Channel.LOGS), 77, VM));
    g.connect(new byte[0], T);
    Random rnd = new Random(1);
    Random cuts = new Random(2);
    int n = 3000;
    for (int i = 1; i <= n; i++) {
      byte[] data = line(i, rnd);
      if (i % 400 == 0) {
        // the connection dies in the middle of a frame; like virtio-serial, the next connection
        // first carries the
        // rest of that frame, which kiln must skip
        byte[] tail =
            g.sendCutAndDrop((i % 2 == 0) ? 2 : 1, data, 1 + cuts.nextInt(data.length + 10));
        g.connect(tail, T);
      } else {
        g.send((i % 2 == 0) ? 2 : 1, data);
      }
    }
    g.awaitAcked(n, T);
    assertExactlyOnce(s, 77, n, 1);
    GuestLink.Stats st = link.stats();
    assertThat(st.logRecords()).isEqualTo(n);
    assertThat(st.connections()).isEqualTo(g.connects);
    assertThat(st.discardedBytes()).isGreaterThan(0);
  }

  @Test
  void aRestartedHostPicksUpWhereTheOldOneStoppedWithoutLossOrDuplicates() throws Exception {
    GuestTransport t = new GuestTransport.VirtioSerial(dir.resolve("sock"));
    Path logs = dir.resolve("logs");
    LogStore.Options opts = new LogStore.Options(32 << 10, 1000, 4096);
    LogStore s1 = LogStore.open(logs, opts);
    GuestLink l1 = GuestLink.start(new GuestLink.Config(VM, t, s1, dir.resolve("exit.json"), null));
    SyntheticGuest g = track(new SyntheticGuest(t.listenPath(Channel.LOGS), 5, VM));
    g.connect(new byte[0], T);
    Random rnd = new Random(3);
    int n = 2000;
    for (int i = 1; i <= 1000; i++) {
      g.send((i % 2 == 0) ? 2 : 1, line(i, rnd));
    }
    // kiln goes away while frames are in flight: some persisted and acked, some persisted but not
    // acked, some lost
    l1.close();
    s1.close();
    long persistedByFirst = s1.endOrdinal();
    assertThat(persistedByFirst).isBetween(1L, 1000L);
    for (int i = 1001; i <= 1500; i++) {
      g.send(
          (i % 2 == 0) ? 2 : 1,
          line(i, rnd)); // written into a dead connection: kept for the resend
    }
    LogStore s2 = track(LogStore.open(logs, opts));
    GuestLink l2 = link(t, s2);
    g.connect(new byte[0], T); // init notices the reconnect: HELLO, then everything unacked
    for (int i = 1501; i <= n; i++) {
      g.send((i % 2 == 0) ? 2 : 1, line(i, rnd));
    }
    g.awaitAcked(n, T);
    assertExactlyOnce(s2, 5, n, 3);
    assertThat(l2.stats().logRecords()).isEqualTo(n - persistedByFirst);
  }

  @Test
  void aLostFrameMakesKilnHangUpSoThatInitResendsIt() throws Exception {
    LogStore s = store();
    GuestTransport t = new GuestTransport.VirtioSerial(dir.resolve("sock"));
    GuestLink link = link(t, s);
    SyntheticGuest g = track(new SyntheticGuest(t.listenPath(Channel.LOGS), 8, VM));
    g.connect(new byte[0], T);
    Random rnd = new Random(5);
    for (int i = 1; i <= 10; i++) {
      byte[] data = line(i, rnd);
      if (i == 4) {
        g.lose((i % 2 == 0) ? 2 : 1, data);
      } else {
        g.send((i % 2 == 0) ? 2 : 1, data);
      }
    }
    g.awaitAcked(3, T);
    long deadline = System.currentTimeMillis() + 10_000;
    while (link.stats().logGaps() == 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(link.stats().logGaps()).isEqualTo(1);
    assertThat(g.acked()).isEqualTo(3); // nothing past the hole was acknowledged
    g.connect(new byte[0], T); // init's reconnect: resends 4..10
    g.awaitAcked(10, T);
    assertExactlyOnce(s, 8, 10, 5);
  }

  @Test
  void aHoleThatResendsNeverFillIsAcceptedAfterAFewReconnects() throws Exception {
    LogStore s = store();
    GuestTransport t = new GuestTransport.VirtioSerial(dir.resolve("sock"));
    GuestLink link = link(t, s);
    Path sock = t.listenPath(Channel.LOGS);
    java.util.function.LongFunction<byte[]> frame =
        seq ->
            Codec.encode(
                new Frame.Log(
                    seq, seq, 1, ("line " + seq + "\n").getBytes(StandardCharsets.UTF_8)));
    try (SocketChannel c = connect(sock)) {
      SyntheticGuest.writeAll(c, Codec.encode(new Frame.Hello(Channel.LOGS.id(), 6, VM)));
      SyntheticGuest.writeAll(c, frame.apply(1));
      assertThat(readFrame(c)).isEqualTo(new Frame.Ack(1));
    }
    // a guest whose seq 2 is gone for good (say the store lost acked records): it only ever resends
    // from 3
    for (int attempt = 1; attempt <= LogIngest.Gaps.MAX_RETRIES; attempt++) {
      try (SocketChannel c = connect(sock)) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(Codec.encode(new Frame.Hello(Channel.LOGS.id(), 6, VM)));
        out.writeBytes(frame.apply(3));
        SyntheticGuest.writeAll(c, out.toByteArray());
        assertThat(hungUp(c)).as("attempt %d", attempt).isTrue();
      }
    }
    try (SocketChannel c = connect(sock)) {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      out.writeBytes(Codec.encode(new Frame.Hello(Channel.LOGS.id(), 6, VM)));
      out.writeBytes(frame.apply(3));
      out.writeBytes(frame.apply(4));
      SyntheticGuest.writeAll(c, out.toByteArray());
      Frame f = readFrame(c);
      while (!f.equals(new Frame.Ack(4))) {
        f = readFrame(c);
      }
    }
    assertThat(s.tail(10).stream().map(LogRecord::seq)).containsExactly(1L, 3L, 4L);
    assertThat(link.stats().logGaps()).isEqualTo(LogIngest.Gaps.MAX_RETRIES + 1);
  }

  @Test
  void framesBeforeHelloAndFromAnotherVmAreRefused() throws Exception {
    LogStore s = store();
    GuestTransport t = new GuestTransport.VirtioSerial(dir.resolve("sock"));
    GuestLink link = link(t, s);
    try (SocketChannel c = connect(t.listenPath(Channel.LOGS))) {
      // one write: kiln hangs up at the wrong HELLO, so a later write could meet a closed socket
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      out.writeBytes(
          Codec.encode(new Frame.Log(1, 1, 1, "orphan\n".getBytes(StandardCharsets.UTF_8))));
      out.writeBytes(Codec.encode(new Frame.Hello(Channel.LOGS.id(), 9, "another-vm")));
      out.writeBytes(Codec.encode(new Frame.Log(2, 1, 1, "x\n".getBytes(StandardCharsets.UTF_8))));
      SyntheticGuest.writeAll(c, out.toByteArray());
      assertThat(hungUp(c)).isTrue();
    }
    assertThat(link.stats().rejectedConnections()).isEqualTo(1);
    assertThat(link.stats().framesBeforeHello()).isEqualTo(1);
    s.force();
    assertThat(s.tail(10)).isEmpty();
  }

  @Test
  void exitReportIsDurableBeforeItIsAckedAndAResendIsAckedAgain() throws Exception {
    LogStore s = store();
    GuestTransport t = new GuestTransport.VirtioSerial(dir.resolve("sock"));
    GuestLink link = link(t, s);
    ExitReport report = new ExitReport(137, 9, true, 10, 20, null);
    Path exitFile = dir.resolve("exit.json");
    try (SocketChannel c = connect(t.listenPath(Channel.EXIT))) {
      SyntheticGuest.writeAll(c, Codec.encode(new Frame.Hello(Channel.EXIT.id(), 1, VM)));
      SyntheticGuest.writeAll(c, Codec.encode(new Frame.Exit(report)));
      assertThat(readFrame(c)).isEqualTo(new Frame.ExitAck());
      assertThat(ExitFile.read(exitFile)).contains(report); // already on disk when the ack came
      SyntheticGuest.writeAll(c, Codec.encode(new Frame.Exit(report)));
      assertThat(readFrame(c)).isEqualTo(new Frame.ExitAck());
    }
    assertThat(link.exit().get(5, TimeUnit.SECONDS)).isEqualTo(report);
    assertThat(Files.readString(exitFile)).isEqualTo(report.toJson() + "\n");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).doesNotContain("exit.json.tmp");
    }
    link.close();
    // a kiln started after the guest exited knows the exit at once; a later report does not
    // overwrite it
    GuestLink again = link(t, s);
    assertThat(again.exit()).isCompletedWithValue(report);
    assertThat(again.recordExit(new ExitReport(1, null, false, 0, 0, "host says")))
        .isEqualTo(report);
  }

  @Test
  void controlRoundTripOverVirtioSerial() throws Exception {
    LogStore s = store();
    GuestTransport t = new GuestTransport.VirtioSerial(dir.resolve("sock"));
    GuestLink link = link(t, s);
    // nobody connected: fails in time with a message that says why
    assertThatThrownBy(() -> link.stop(Duration.ofMillis(200)))
        .isInstanceOf(ControlException.class)
        .hasMessageContaining("not connected");
    // a request made before init connects waits for it
    CompletableFuture<ControlReply> early =
        CompletableFuture.supplyAsync(() -> {
          try {
            return link.stop(T);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    Thread.sleep(100);
    try (SocketChannel c = connect(t.listenPath(Channel.CONTROL))) {
      FakeInitControl init = new FakeInitControl(c);
      init.hello();
      Thread.ofVirtual().start(init::serve);
      assertThat(early.get(10, TimeUnit.SECONDS)).isEqualTo(ControlReply.success());
      assertThat(link.signal(10, T)).isEqualTo(ControlReply.failure("no such process"));
      assertThat(link.signal(15, T)).isEqualTo(ControlReply.success());
      assertThat(init.seen).containsExactly("stop", "signal 10", "signal 15");
    }
    // the connection is gone: a new one takes over
    try (SocketChannel c = connect(t.listenPath(Channel.CONTROL))) {
      FakeInitControl init = new FakeInitControl(c);
      init.hello();
      Thread.ofVirtual().start(init::serve);
      assertThat(link.stop(T)).isEqualTo(ControlReply.success());
    }
  }

  @Test
  void hybridVsockListensOnPortSocketsAndDialsControlWithConnectOk() throws Exception {
    LogStore s = store();
    Path uds = dir.resolve("v.sock");
    GuestTransport.HybridVsock t = new GuestTransport.HybridVsock(uds);
    FakeFirecrackerVsock fc = track(new FakeFirecrackerVsock(uds, 3));
    GuestLink link = link(t, s);
    assertThat(link.socketPaths())
        .containsExactlyInAnyOrder(
            dir.resolve("v.sock_10000"), dir.resolve("v.sock_10001"), dir.resolve("v.sock_10002"));
    for (Path p : link.socketPaths()) {
      assertThat(Files.getAttribute(p, "unix:mode")).isEqualTo(0140600);
    }
    assertThat(link.stop(T)).isEqualTo(ControlReply.success());
    assertThat(fc.attempts).hasValue(4); // three refusals (guest not listening yet), then OK
    assertThat(fc.requests).containsOnly("CONNECT 10003");
    assertThat(link.signal(2, T)).isEqualTo(ControlReply.success());
    assertThat(fc.attempts).hasValue(4); // the connection is kept

    // guest-initiated logs through <uds>_10000
    SyntheticGuest g = track(new SyntheticGuest(dir.resolve("v.sock_10000"), 11, VM));
    g.connect(new byte[0], T);
    Random rnd = new Random(4);
    for (int i = 1; i <= 100; i++) {
      g.send((i % 2 == 0) ? 2 : 1, line(i, rnd));
    }
    g.awaitAcked(100, T);
    assertExactlyOnce(s, 11, 100, 4);
  }

  @Test
  void vsockDialGivesUpWithAClearMessageWhenTheGuestNeverListens() throws Exception {
    LogStore s = store();
    Path uds = dir.resolve("v.sock");
    track(new FakeFirecrackerVsock(uds, Integer.MAX_VALUE));
    GuestLink link = link(new GuestTransport.HybridVsock(uds), s);
    assertThatThrownBy(() -> link.stop(Duration.ofMillis(400)))
        .isInstanceOf(ControlException.class)
        .hasMessageContaining("vsock port 10003");
  }

  @Test
  void keepsTheLatestMetrics() throws Exception {
    LogStore s = store();
    GuestTransport t = new GuestTransport.VirtioSerial(dir.resolve("sock"));
    GuestLink link = link(t, s);
    assertThat(link.metrics()).isEmpty();
    GuestMetrics m1 = new GuestMetrics(1, new GuestMetrics.Cpu(1, 2, 3), null, null, null, 0);
    GuestMetrics m2 = new GuestMetrics(2, new GuestMetrics.Cpu(4, 5, 6), null, null, null, 7);
    try (SocketChannel c = connect(t.listenPath(Channel.METRICS))) {
      SyntheticGuest.writeAll(c, Codec.encode(new Frame.Hello(Channel.METRICS.id(), 1, VM)));
      SyntheticGuest.writeAll(c, Codec.encode(new Frame.Metrics(m1)));
      SyntheticGuest.writeAll(c, Codec.encode(new Frame.Metrics(m2)));
      long deadline = System.currentTimeMillis() + 10_000;
      while (!link.metrics().equals(java.util.Optional.of(m2))
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
    }
    assertThat(link.metrics()).contains(m2);
  }

  @Test
  void socketsBelongToTheVmmUidAndOnlyItCanConnect() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "needs root to chown and switch uid");
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/setpriv"))
            && Files.isExecutable(Path.of("/usr/bin/socat")),
        "needs setpriv and socat");
    Files.setPosixFilePermissions(
        dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
    LogStore s = store();
    Path sock = dir.resolve("sock");
    Files.createDirectories(sock);
    Files.setPosixFilePermissions(
        sock, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
    GuestTransport t = new GuestTransport.VirtioSerial(sock);
    int uid = 64123;
    track(
        GuestLink.start(
            new GuestLink.Config(VM, t, s, dir.resolve("exit.json"), new SocketOwner(uid, uid))));
    Path logs = t.listenPath(Channel.LOGS);
    assertThat(Files.getAttribute(logs, "unix:uid")).isEqualTo(uid);
    assertThat(Files.getAttribute(logs, "unix:gid")).isEqualTo(uid);
    Path frames = dir.resolve("frames.bin");
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.writeBytes(Codec.encode(new Frame.Hello(Channel.LOGS.id(), 3, VM)));
    out.writeBytes(
        Codec.encode(new Frame.Log(1, 1, 1, "from uid 64123\n".getBytes(StandardCharsets.UTF_8))));
    Files.write(frames, out.toByteArray());
    Files.setPosixFilePermissions(
        frames, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(runAs(uid, frames, logs)).isZero();
    assertThat(runAs(uid + 1, frames, logs))
        .isNotZero(); // another VM's uid is refused by the file mode
    long deadline = System.currentTimeMillis() + 10_000;
    while (s.tail(1).isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(s.tail(10)).extracting(LogRecord::text).containsExactly("from uid 64123\n");
  }

  static int runAs(int uid, Path input, Path socket) throws Exception {
    Process p =
        new ProcessBuilder(
                "setpriv",
                "--reuid=" + uid,
                "--regid=" + uid,
                "--clear-groups",
                "socat",
                "-u",
                "FILE:" + input,
                "UNIX-CONNECT:" + socket)
            .redirectErrorStream(true)
            .start();
    p.getInputStream().readAllBytes();
    return p.waitFor();
  }

  /** Whether the peer closed: EOF, or a reset because it closed with our bytes unread. */
  static boolean hungUp(SocketChannel c) throws IOException {
    // frames kiln sends before hanging up (a last ACK) are read past; a watchdog bounds the wait
    Thread watchdog =
        Thread.ofVirtual()
            .start(() -> {
              try {
                Thread.sleep(10_000);
                c.close();
              } catch (InterruptedException | IOException e) {
                // done in time
              }
            });
    try {
      ByteBuffer b = ByteBuffer.allocate(4096);
      while (true) {
        b.clear();
        if (c.read(b) == -1) {
          return true;
        }
      }
    } catch (java.net.SocketException e) {
      return e.getMessage().contains("reset");
    } catch (java.nio.channels.AsynchronousCloseException e) {
      return false;
    } finally {
      watchdog.interrupt();
    }
  }

  static SocketChannel connect(Path p) throws IOException {
    SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
    c.connect(UnixDomainSocketAddress.of(p));
    return c;
  }

  static Frame readFrame(SocketChannel c) throws IOException {
    FrameDecoder d = new FrameDecoder();
    ByteBuffer b = ByteBuffer.allocate(1024);
    while (true) {
      Frame f = d.next();
      if (f != null) {
        return f;
      }
      b.clear();
      if (c.read(b) < 0) {
        throw new IOException("closed");
      }
      b.flip();
      d.feed(b);
    }
  }
}
