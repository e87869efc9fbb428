package dev.inferno.daemon.network;

import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The userland end of one published port, like docker-proxy: it binds HOSTIP:HOSTPORT and relays to
 * the guest's address and port, on virtual threads. It serves what DNAT cannot see: connections
 * from the host itself (to 127.0.0.1 or to the host's own addresses never pass prerouting) and
 * ports published on an IPv6 host address. Binding first also proves the host port is free, and a
 * random host port is the one the kernel gives to a bind on port 0.
 *
 * <p>TCP: one pair of relaying threads per connection, a half-close (shutdownOutput) passes
 * through. UDP: one session per client address with its own socket to the guest, dropped after
 * {@code udpIdle} without traffic. {@link #close()} frees the port and every connection.
 */
public final class PortProxy implements AutoCloseable {
  public static final Duration DEFAULT_UDP_IDLE = Duration.ofSeconds(30);
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
  private static final int BUFFER = 64 * 1024;
  private static final Logger LOG = Logger.getLogger(PortProxy.class.getName());

  private final PortSpec bound;
  private final InetSocketAddress target;
  private final AutoCloseable listener;
  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private PortProxy(PortSpec bound, InetSocketAddress target, AutoCloseable listener) {
    this.bound = bound;
    this.target = target;
    this.listener = listener;
  }

  /** Binds spec's host side and starts relaying to target. */
  public static PortProxy open(PortSpec spec, InetSocketAddress target) throws IOException {
    return open(spec, target, DEFAULT_UDP_IDLE);
  }

  public static PortProxy open(PortSpec spec, InetSocketAddress target, Duration udpIdle)
      throws IOException {
    InetSocketAddress local =
        spec.allAddresses()
            ? new InetSocketAddress(spec.hostPort())
            : new InetSocketAddress(InetAddress.ofLiteral(spec.hostIp()), spec.hostPort());
    if (spec.protocol() == Protocol.TCP) {
      ServerSocketChannel server = ServerSocketChannel.open();
      // a restarted daemon must not wait out TIME_WAIT
      server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      bind(spec, () -> server.bind(local, 512), server);
      int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
      PortProxy p = new PortProxy(spec.withHostPort(port), target, server);
      p.start("proxy-" + p.bound, () -> p.acceptLoop(server));
      return p;
    }
    DatagramSocket socket = new DatagramSocket(null);
    bind(spec, () -> socket.bind(local), socket);
    PortProxy p = new PortProxy(spec.withHostPort(socket.getLocalPort()), target, socket);
    p.start("proxy-" + p.bound, () -> p.udpLoop(socket, udpIdle));
    return p;
  }

  private interface Bind {
    void run() throws IOException;
  }

  private static void bind(PortSpec spec, Bind bind, AutoCloseable socket) throws IOException {
    try {
      bind.run();
    } catch (IOException e) {
      closeQuietly(socket);
      String where =
          (spec.protocol() == Protocol.TCP
                  ? "port " + spec.hostPort()
                  : "port " + spec.hostPort() + "/udp")
              + " on "
              + spec.displayHostIp();
      if (e instanceof BindException && String.valueOf(e.getMessage()).contains("in use")) {
        throw new PortInUseException(
            where + " is already in use: stop what uses it or publish on another host port");
      }
      if (e instanceof BindException) {
        throw new BindException(
            "cannot publish "
                + where
                + ": "
                + e.getMessage()
                + " (is it an address of this host?)");
      }
      throw e;
    }
  }

  /** Starts a virtual thread that close() waits for. */
  private void start(String name, Runnable task) {
    Thread t =
        Thread.ofVirtual()
            .name(name)
            .unstarted(() -> {
              try {
                task.run();
              } finally {
                threads.remove(Thread.currentThread());
              }
            });
    threads.add(t);
    t.start();
  }

  /** The publication as bound: the host port is the real one, also when it was random. */
  public PortSpec bound() {
    return bound;
  }

  public InetSocketAddress target() {
    return target;
  }

  /** Open relayed connections (TCP) or sessions (UDP), for tests and diagnostics. */
  public int active() {
    return open.size();
  }

  private void acceptLoop(ServerSocketChannel server) {
    while (!closed) {
      SocketChannel client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.log(Level.WARNING, "proxy " + bound + " stopped accepting", e);
        }
        return;
      }
      open.add(client);
      if (closed) {
        closeQuietly(client);
        return;
      }
      start("proxy-conn-" + bound, () -> connect(client));
    }
  }

  private void connect(SocketChannel client) {
    SocketChannel guest;
    try {
      guest = SocketChannel.open();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "proxy " + bound + ": no socket for a connection", e);
      closeQuietly(client);
      open.remove(client);
      return;
    }
    open.add(guest);
    try {
      guest.socket().connect(target, (int) CONNECT_TIMEOUT.toMillis());
      client.setOption(StandardSocketOptions.TCP_NODELAY, true);
      guest.setOption(StandardSocketOptions.TCP_NODELAY, true);
    } catch (IOException e) {
      LOG.log(Level.FINE, "proxy " + bound + ": cannot reach " + target, e);
      release(client, guest);
      return;
    }
    AtomicInteger running = new AtomicInteger(2);
    start("proxy-conn-" + bound, () -> pump(client, guest, running));
    pump(guest, client, running);
  }

  /**
   * Copies from → to until EOF, then half-closes to; the last of the two closes both. Channels with
   * a direct buffer: the bytes are not copied through the Java heap on their way.
   */
  private void pump(SocketChannel from, SocketChannel to, AtomicInteger running) {
    ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
    try {
      while (from.read(buf) >= 0) {
        buf.flip();
        while (buf.hasRemaining()) {
          to.write(buf);
        }
        buf.clear();
      }
      to.shutdownOutput();
    } catch (IOException e) {
      // a reset or a close on either side ends the connection both ways
      release(from, to);
      return;
    }
    if (running.decrementAndGet() == 0) {
      release(from, to);
    }
  }

  private void release(SocketChannel a, SocketChannel b) {
    closeQuietly(a);
    closeQuietly(b);
    open.remove(a);
    open.remove(b);
  }

  /** One UDP client's session: its own socket to the guest, and when it last carried a packet. */
  private static final class UdpSession {
    final DatagramSocket socket;
    volatile long lastActive = System.nanoTime();

    UdpSession(DatagramSocket socket) {
      this.socket = socket;
    }
  }

  private void udpLoop(DatagramSocket host, Duration idle) {
    Map<SocketAddress, UdpSession> sessions = new ConcurrentHashMap<>();
    byte[] buf = new byte[65535];
    while (!closed) {
      DatagramPacket packet = new DatagramPacket(buf, buf.length);
      try {
        host.receive(packet);
      } catch (IOException e) {
        if (!closed) {
          LOG.log(Level.WARNING, "proxy " + bound + " stopped receiving", e);
        }
        return;
      }
      SocketAddress client = packet.getSocketAddress();
      UdpSession session = sessions.get(client);
      if (session == null || session.socket.isClosed()) { // none yet, or it just went idle
        DatagramSocket socket = null;
        try {
          socket = new DatagramSocket();
          socket.connect(target);
          // wakes the reply reader now and then so it can notice the session went idle
          socket.setSoTimeout((int) Math.max(1, Math.min(idle.toMillis(), 1000)));
        } catch (SocketException e) {
          LOG.log(Level.FINE, "proxy " + bound + ": no session for " + client, e);
          if (socket != null) {
            socket.close();
          }
          continue;
        }
        UdpSession created = new UdpSession(socket);
        sessions.put(client, created);
        open.add(socket);
        start("proxy-udp-" + bound, () -> udpReplies(host, created, client, idle, sessions));
        session = created;
      }
      session.lastActive = System.nanoTime();
      try {
        session.socket.send(new DatagramPacket(buf, packet.getLength()));
      } catch (IOException e) {
        // e.g. ICMP port unreachable from the guest: UDP drops, the client retries or times out
        LOG.log(Level.FINE, "proxy " + bound + ": send to " + target + " failed", e);
      }
    }
  }

  private void udpReplies(
      DatagramSocket host,
      UdpSession session,
      SocketAddress client,
      Duration idle,
      Map<SocketAddress, UdpSession> sessions) {
    byte[] buf = new byte[65535];
    DatagramSocket socket = session.socket;
    try {
      while (!closed) {
        DatagramPacket packet = new DatagramPacket(buf, buf.length);
        try {
          socket.receive(packet);
        } catch (SocketTimeoutException e) {
          if (System.nanoTime() - session.lastActive >= idle.toNanos()) {
            return;
          }
          continue;
        } catch (IOException e) {
          // the guest refused (ICMP) or the session was closed: keep waiting until idle
          if (socket.isClosed()) {
            return;
          }
          continue;
        }
        session.lastActive = System.nanoTime();
        host.send(new DatagramPacket(buf, packet.getLength(), client));
      }
    } catch (IOException e) {
      LOG.log(Level.FINE, "proxy " + bound + ": reply to " + client + " failed", e);
    } finally {
      sessions.remove(client, session);
      open.remove(socket);
      socket.close();
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    for (AutoCloseable c : open) {
      closeQuietly(c);
    }
    open.clear();
    // A socket closed while a virtual thread is blocked on it is released only when that thread
    // wakes up: wait for them, so the port is free when close() returns.
    long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
    for (Thread t : threads) {
      try {
        if (!t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
          LOG.warning("proxy " + bound + ": " + t.getName() + " did not end within " + CLOSE_WAIT);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // closing: nothing left to do about it
    }
  }
}
