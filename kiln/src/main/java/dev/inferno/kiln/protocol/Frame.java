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
}
