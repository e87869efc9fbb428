package dev.inferno.daemon.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy on loopback; a local server stands in for the guest. */
class PortProxyTest {
  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  final List<AutoCloseable> cleanup = new ArrayList<>();
  ServerSocket guest;

  /**
   * The "guest": echoes what it reads; once the client half-closes, it answers "got N" and closes,
   * so a reply proves the half-close passed through the proxy and the other direction still works.
   */
  @BeforeEach
  void startGuest() throws IOException {
    guest = new ServerSocket(0, 512, LOOPBACK);
    cleanup.add(guest);
    Thread.ofVirtual()
        .start(() -> {
          while (!guest.isClosed()) {
            try {
              Socket s = guest.accept();
              Thread.ofVirtual().start(() -> echo(s));
            } catch (IOException e) {
              return;
            }
          }
        });
  }

  private static void echo(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      long total = 0;
      for (int n; (n = in.read(buf)) >= 0; ) {
        s.getOutputStream().write(buf, 0, n);
        total += n;
      }
      s.getOutputStream().write(("got " + total).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // the client went away
    }
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : cleanup.reversed()) {
      c.close();
    }
  }

  PortProxy proxy(PortSpec spec, int targetPort) throws IOException {
    PortProxy p =
        PortProxy.open(spec, new InetSocketAddress(LOOPBACK, targetPort), Duration.ofMillis(300));
    cleanup.add(p);
    return p;
  }

  /** Sends data through, half-closes, and returns all that came back. */
  static byte[] exchange(int port, byte[] data) throws IOException {
    return exchange(LOOPBACK, port, data);
  }

  static byte[] exchange(InetAddress to, int port, byte[] data) throws IOException {
    try (Socket c = new Socket(to, port)) {
      c.setSoTimeout(20_000);
      Thread writer =
          Thread.ofVirtual()
              .start(() -> {
                try {
                  c.getOutputStream().write(data);
                  c.shutdownOutput();
                } catch (IOException e) {
                  // the read below fails too
                }
              });
      byte[] back = c.getInputStream().readAllBytes();
      writer.join();
      return back;
    } catch (InterruptedException e) {
      throw new IOException(e);
    }
  }

  static byte[] expected(byte[] data) {
    byte[] tail = ("got " + data.length).getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(data, data.length + tail.length);
    System.arraycopy(tail, 0, out, data.length, tail.length);
    return out;
  }

  @Test
  void relaysBothWaysAndPassesTheHalfClose() throws Exception {
    PortProxy p = proxy(new PortSpec("127.0.0.1", 0, 80, Protocol.TCP), guest.getLocalPort());
    assertThat(p.bound().hostPort()).as("the kernel's random port").isPositive();
    assertThat(p.bound()).hasToString("127.0.0.1:" + p.bound().hostPort() + "->80/tcp");
    byte[] small = "hello".getBytes(StandardCharsets.UTF_8);
    assertThat(exchange(p.bound().hostPort(), small)).isEqualTo(expected(small));
    byte[] big = new byte[4 << 20];
    new Random(7).nextBytes(big);
    assertThat(exchange(p.bound().hostPort(), big)).isEqualTo(expected(big));
  }

  @Test
  void allAddressesIncludesLoopback() throws Exception {
    PortProxy p = proxy(new PortSpec("", 0, 80, Protocol.TCP), guest.getLocalPort());
    byte[] data = "all".getBytes(StandardCharsets.UTF_8);
    assertThat(exchange(p.bound().hostPort(), data)).isEqualTo(expected(data));
    assertThat(p.bound().displayHostIp()).isEqualTo("0.0.0.0");
    // and IPv6 loopback too: the wildcard bind is dual-stack
    InetAddress v6 = InetAddress.ofLiteral("::1");
    assertThat(exchange(v6, p.bound().hostPort(), data)).isEqualTo(expected(data));
  }

  @Test
  void anIpv6HostAddress() throws Exception {
    PortProxy p = proxy(PortParser.parse("[::1]::80").getFirst(), guest.getLocalPort());
    assertThat(p.bound()).hasToString("[::1]:" + p.bound().hostPort() + "->80/tcp");
    byte[] data = "six".getBytes(StandardCharsets.UTF_8);
    assertThat(exchange(InetAddress.ofLiteral("::1"), p.bound().hostPort(), data))
        .isEqualTo(expected(data));
  }

  @Test
  void manyConcurrentConnections() throws Exception {
    PortProxy p = proxy(new PortSpec("127.0.0.1", 0, 80, Protocol.TCP), guest.getLocalPort());
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        byte[] data = new byte[1000 + i * 97];
        new Random(i).nextBytes(data);
        results.add(
            pool.submit(() -> Arrays.equals(exchange(p.bound().hostPort(), data), expected(data))));
      }
      for (Future<Boolean> r : results) {
        assertThat(r.get()).isTrue();
      }
    }
  }

  @Test
  void closeReleasesThePortAndEndsOpenConnections() throws Exception {
    PortProxy p = proxy(new PortSpec("127.0.0.1", 0, 80, Protocol.TCP), guest.getLocalPort());
    int port = p.bound().hostPort();
    try (Socket open = new Socket(LOOPBACK, port)) {
      open.setSoTimeout(10_000);
      open.getOutputStream().write(1);
      assertThat(open.getInputStream().read()).isEqualTo(1);
      assertThat(p.active()).isEqualTo(2);
      p.close();
      assertThat(p.active()).isZero();
      int r;
      try {
        r = open.getInputStream().read();
      } catch (IOException e) {
        r = -1; // a reset is an end too
      }
      assertThat(r).isEqualTo(-1);
    }
    try (ServerSocket again = new ServerSocket()) {
      again.setReuseAddress(true);
      again.bind(new InetSocketAddress(LOOPBACK, port));
      assertThat(again.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void aTakenPortIsAClearError() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
      int port = taken.getLocalPort();
      assertThatThrownBy(
              () -> proxy(new PortSpec("127.0.0.1", port, 80, Protocol.TCP), guest.getLocalPort()))
          .isInstanceOf(PortInUseException.class)
          .hasMessage(
              "port "
                  + port
                  + " on 127.0.0.1 is already in use: stop what uses it or publish on another"
                  + " host port");
      assertThatThrownBy(
              () -> proxy(new PortSpec("", port, 80, Protocol.TCP), guest.getLocalPort()))
          .isInstanceOf(PortInUseException.class)
          .hasMessageStartingWith("port " + port + " on 0.0.0.0 is already in use");
    }
    assertThatThrownBy(
            () -> proxy(new PortSpec("192.0.2.254", 0, 80, Protocol.TCP), guest.getLocalPort()))
        .hasMessageStartingWith("cannot publish port 0 on 192.0.2.254: ")
        .hasMessageEndingWith("(is it an address of this host?)");
  }

  @Test
  void aGuestThatRefusesClosesTheClient() throws Exception {
    int dead;
    try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
      dead = s.getLocalPort();
    }
    PortProxy p = proxy(new PortSpec("127.0.0.1", 0, 80, Protocol.TCP), dead);
    try (Socket c = new Socket(LOOPBACK, p.bound().hostPort())) {
      c.setSoTimeout(10_000);
      int r;
      try {
        r = c.getInputStream().read();
      } catch (IOException e) {
        r = -1;
      }
      assertThat(r).isEqualTo(-1);
    }
  }

  /** A UDP "guest" that answers each datagram with "echo:" + it. */
  DatagramSocket udpGuest() throws IOException {
    DatagramSocket s = new DatagramSocket(0, LOOPBACK);
    cleanup.add(s);
    Thread.ofVirtual()
        .start(() -> {
          byte[] buf = new byte[65535];
          while (!s.isClosed()) {
            try {
              DatagramPacket p = new DatagramPacket(buf, buf.length);
              s.receive(p);
              byte[] reply =
                  ("echo:" + new String(buf, 0, p.getLength(), StandardCharsets.UTF_8))
                      .getBytes(StandardCharsets.UTF_8);
              s.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
            } catch (IOException e) {
              return;
            }
          }
        });
    return s;
  }

  static String ask(DatagramSocket client, int port, String msg) throws IOException {
    byte[] b = msg.getBytes(StandardCharsets.UTF_8);
    client.send(new DatagramPacket(b, b.length, LOOPBACK, port));
    DatagramPacket reply = new DatagramPacket(new byte[65535], 65535);
    client.receive(reply);
    return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
  }

  @Test
  void udpSessionsPerClientWithAnIdleTimeout() throws Exception {
    DatagramSocket g = udpGuest();
    PortProxy p = proxy(new PortSpec("127.0.0.1", 0, 53, Protocol.UDP), g.getLocalPort());
    int port = p.bound().hostPort();
    assertThat(p.bound()).hasToString("127.0.0.1:" + port + "->53/udp");
    try (DatagramSocket a = new DatagramSocket(0, LOOPBACK);
        DatagramSocket b = new DatagramSocket(0, LOOPBACK)) {
      a.setSoTimeout(5000);
      b.setSoTimeout(5000);
      assertThat(ask(a, port, "a1")).isEqualTo("echo:a1");
      assertThat(ask(b, port, "b1")).isEqualTo("echo:b1");
      assertThat(ask(a, port, "a2")).isEqualTo("echo:a2");
      assertThat(p.active()).as("one session per client").isEqualTo(2);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (p.active() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(p.active()).as("idle sessions are dropped").isZero();
      // and a new one starts on the next datagram
      assertThat(ask(a, port, "a3")).isEqualTo("echo:a3");
    }
    p.close();
    try (DatagramSocket again = new DatagramSocket(port, LOOPBACK)) {
      assertThat(again.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void aTakenUdpPortIsAClearError() throws Exception {
    try (DatagramSocket taken = new DatagramSocket(0, LOOPBACK)) {
      int port = taken.getLocalPort();
      assertThatThrownBy(() -> proxy(new PortSpec("127.0.0.1", port, 53, Protocol.UDP), 53))
          .isInstanceOf(PortInUseException.class)
          .hasMessageStartingWith("port " + port + "/udp on 127.0.0.1 is already in use");
    }
  }

  @Test
  void udpToAGuestThatDoesNotAnswerJustTimesOut() throws Exception {
    int dead;
    try (DatagramSocket s = new DatagramSocket(0, LOOPBACK)) {
      dead = s.getLocalPort();
    }
    PortProxy p = proxy(new PortSpec("127.0.0.1", 0, 53, Protocol.UDP), dead);
    try (DatagramSocket a = new DatagramSocket(0, LOOPBACK)) {
      a.setSoTimeout(300);
      assertThatThrownBy(() -> ask(a, p.bound().hostPort(), "x"))
          .isInstanceOf(SocketTimeoutException.class);
    }
  }
}
