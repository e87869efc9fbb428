package dev.inferno.kiln.protocol;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One frame of PROTOCOL.md §3. u64 fields (seq, boot id, times) are carried in a {@code long} and
 * are unsigned: compare them with {@link Long#compareUnsigned}.
 */
public sealed interface Frame {

  FrameType type();

  /** First frame of every connection: which channel, which boot of which VM. */
  record Hello(int channel, long bootId, String vmId) implements Frame {
    @Override
    public FrameType type() {
      return FrameType.HELLO;
    }
  }

  /** A chunk of the workload's (or init's) output. {@code data} is not copied: do not mutate it. */
  @SuppressWarnings("ArrayRecordComponent") // equals/hashCode compare the bytes
  record Log(long seq, long guestTimeNs, int stream, byte[] data) implements Frame {
    /** stdout of the workload. */
    public static final int STDOUT = 1;

    /** stderr of the workload. */
    public static final int STDERR = 2;

    /** init's own messages. */
    public static final int INIT = 3;

    /** The most data one LOG frame can carry. */
    public static final int MAX_DATA = Codec.MAX_PAYLOAD - 17;

    @Override
    public FrameType type() {
      return FrameType.LOG;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Log l
          && l.seq == seq
          && l.guestTimeNs == guestTimeNs
          && l.stream == stream
          && Arrays.equals(l.data, data);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(seq) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
      String hex = HexFormat.of().formatHex(data, 0, Math.min(data.length, 32));
      return "Log[seq="
          + Long.toUnsignedString(seq)
          + ", guestTimeNs="
          + Long.toUnsignedString(guestTimeNs)
          + ", stream="
          + stream
          + ", data("
          + data.length
          + ")="
          + hex
          + (data.length > 32 ? "…" : "")
          + "]";
    }
  }

  /** Every LOG with a seq ≤ this one is durable on the host. */
  record Ack(long seq) implements Frame {
    @Override
    public FrameType type() {
      return FrameType.ACK;
    }
  }

  /** The workload has exited. */
  record Exit(ExitReport report) implements Frame {
    @Override
    public FrameType type() {
      return FrameType.EXIT;
    }
  }

  /** The host has durably recorded the exit report. */
  record ExitAck() implements Frame {
    @Override
    public FrameType type() {
      return FrameType.EXIT_ACK;
    }
  }

  /** A request from the host to init. */
  record Control(ControlRequest request) implements Frame {
    @Override
    public FrameType type() {
      return FrameType.CONTROL;
    }
  }

  /** init's answer to one CONTROL, in order. */
  record Reply(ControlReply reply) implements Frame {
    @Override
    public FrameType type() {
      return FrameType.CONTROL_REPLY;
    }
  }

  /** Periodic guest metrics. */
  record Metrics(GuestMetrics metrics) implements Frame {
    @Override
    public FrameType type() {
      return FrameType.METRICS;
    }
  }

  // Sessions (PROTOCOL.md §10). Session ids, pids and signals are u32 on the wire, carried in an
  // int: the host numbers sessions from 1 and never gets near 2^31; compare them as unsigned.

  /** The host asks the guest to start session {@code session}: the JSON says what to run. */
  record Open(int session, String json) implements Frame {
    public Open {
      java.util.Objects.requireNonNull(json, "json");
    }

    @Override
    public FrameType type() {
      return FrameType.OPEN;
    }
  }

  /** The guest started the session's process (its guest pid). */
  record Started(int session, int pid) implements Frame {
    @Override
    public FrameType type() {
      return FrameType.STARTED;
    }
  }

  /**
   * Bytes of one stream of a session: 0 stdin (host → guest), 1 stdout or the terminal, 2 stderr.
   * {@code data} is not copied: do not mutate it.
   */
  @SuppressWarnings("ArrayRecordComponent") // equals/hashCode compare the bytes
  record Data(int session, int stream, byte[] data) implements Frame {
    public static final int STDIN = 0;
    public static final int STDOUT = 1;
    public static final int STDERR = 2;

    /** The most data one DATA frame can carry. */
    public static final int MAX_DATA = Codec.MAX_PAYLOAD - 5;

    @Override
    public FrameType type() {
      return FrameType.DATA;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Data d
          && d.session == session
          && d.stream == stream
          && Arrays.equals(d.data, data);
    }

    @Override
    public int hashCode() {
      return (session * 31 + stream) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
      return "Data[session="
          + Integer.toUnsignedString(session)
          + ", stream="
          + stream
          + ", data("
          + data.length
          + ")="
          + HexFormat.of().formatHex(data, 0, Math.min(data.length, 32))
          + (data.length > 32 ? "…" : "")
          + "]";
    }
  }

  /** No more DATA on that stream of the session. */
  record Eof(int session, int stream) implements Frame {
    @Override
    public FrameType type() {
      return FrameType.EOF;
    }
  }

  /** The receiver of a stream grants its sender {@code bytes} (u32) more credit. */
  record Window(int session, int stream, long bytes) implements Frame {
    public Window {
      if (bytes < 0 || bytes > 0xFFFF_FFFFL) {
        throw new IllegalArgumentException("WINDOW bytes are a u32, not " + bytes);
      }
    }

    @Override
    public FrameType type() {
      return FrameType.WINDOW;
    }
  }

  /** Sets the session's terminal size. */
  record Resize(int session, int rows, int cols) implements Frame {
    public Resize {
      if (rows < 0 || rows > 0xFFFF || cols < 0 || cols > 0xFFFF) {
        throw new IllegalArgumentException("a terminal size is two u16, not " + rows + "x" + cols);
      }
    }

    @Override
    public FrameType type() {
      return FrameType.RESIZE;
    }
  }

  /** Sends the session's process a signal. */
  record Signal(int session, int signal) implements Frame {
    @Override
    public FrameType type() {
      return FrameType.SIGNAL;
    }
  }

  /** The session ended: its process's exit report, or why it never started. */
  record Closed(int session, ExitReport report) implements Frame {
    public Closed {
      java.util.Objects.requireNonNull(report, "report");
    }

    @Override
    public FrameType type() {
      return FrameType.CLOSED;
    }
  }
}
