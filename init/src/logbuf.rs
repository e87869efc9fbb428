//! Exactly-once log delivery, guest side (docs/PROTOCOL.md §4): sequence numbers, the bounded buffer of
//! unacknowledged frames, resend after reconnect, back-pressure or drop mode.

use crate::config::LogMode;
use crate::frame::{self, LOG_PREFIX, MAX_LOG_DATA};
use std::collections::VecDeque;

struct Entry {
    seq: u64,
    data_len: usize,
    bytes: Vec<u8>,
}

pub struct LogBuffer {
    mode: LogMode,
    capacity: usize,
    next_seq: u64,
    unacked: VecDeque<Entry>,
    /// Data bytes held in `unacked`.
    held: usize,
    /// Index in `unacked` of the frame being written, and the offset in it.
    cursor: usize,
    offset: usize,
    /// Drop mode: bytes discarded since the last notice, and in total.
    pending_dropped: u64,
    pub total_dropped: u64,
}

impl LogBuffer {
    pub fn new(mode: LogMode, capacity: usize) -> Self {
        LogBuffer {
            mode,
            capacity: capacity.max(4096),
            next_seq: 1,
            unacked: VecDeque::new(),
            held: 0,
            cursor: 0,
            offset: 0,
            pending_dropped: 0,
            total_dropped: 0,
        }
    }

    /// How many bytes init may read from the workload now. In block mode 0 means "stop reading the pipes"
    /// (so the workload blocks in write(2)); drop mode always reads and discards what does not fit.
    pub fn read_budget(&self) -> usize {
        match self.mode {
            LogMode::Block => (self.capacity - self.held).min(MAX_LOG_DATA),
            LogMode::Drop => MAX_LOG_DATA,
        }
    }

    /// `buf` is `LOG_PREFIX` reserved bytes followed by the data; the frame is completed in place.
    fn append_buf(&mut self, stream: u8, mut buf: Vec<u8>, time_ns: u64) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        frame::finish_log_frame(&mut buf, seq, time_ns, stream);
        let data_len = buf.len() - LOG_PREFIX;
        self.held += data_len;
        self.unacked.push_back(Entry { seq, data_len, bytes: buf });
        seq
    }

    fn append(&mut self, stream: u8, data: &[u8], time_ns: u64) -> u64 {
        let mut buf = Vec::with_capacity(LOG_PREFIX + data.len());
        buf.resize(LOG_PREFIX, 0);
        buf.extend_from_slice(data);
        self.append_buf(stream, buf, time_ns)
    }

    /// Adds what one read(2) returned (1..=read_budget bytes). Returns false when drop mode discarded it.
    pub fn push(&mut self, stream: u8, data: &[u8], time_ns: u64) -> bool {
        let mut buf = Vec::with_capacity(LOG_PREFIX + data.len());
        buf.resize(LOG_PREFIX, 0);
        buf.extend_from_slice(data);
        self.push_buf(stream, buf, time_ns)
    }

    /// Like [`push`], for data read straight into `buf[LOG_PREFIX..]` (the workload's bytes are not copied).
    pub fn push_buf(&mut self, stream: u8, buf: Vec<u8>, time_ns: u64) -> bool {
        let len = buf.len().saturating_sub(LOG_PREFIX);
        assert!(len > 0 && len <= MAX_LOG_DATA);
        let free = self.capacity - self.held;
        if self.mode == LogMode::Drop {
            let notice = (self.pending_dropped > 0)
                .then(|| format!("inferno-init: dropped {} bytes of output\n", self.pending_dropped));
            let need = len + notice.as_ref().map_or(0, String::len);
            if need > free {
                self.pending_dropped += len as u64;
                self.total_dropped += len as u64;
                return false;
            }
            if let Some(n) = notice {
                self.append(frame::STREAM_INIT, n.as_bytes(), time_ns);
                self.pending_dropped = 0;
            }
        } else {
            assert!(len <= free, "block mode read more than its budget");
        }
        self.append_buf(stream, buf, time_ns);
        true
    }

    /// Init's own message (stream 3); never dropped, may exceed the bound slightly.
    pub fn push_init(&mut self, text: &str, time_ns: u64) {
        for chunk in text.as_bytes().chunks(MAX_LOG_DATA) {
            self.append(frame::STREAM_INIT, chunk, time_ns);
        }
    }

    /// At the end of the run: say how much was dropped even if no further output frees space for the notice.
    pub fn flush_drop_notice(&mut self, time_ns: u64) {
        if self.pending_dropped > 0 {
            let n = format!("inferno-init: dropped {} bytes of output\n", self.pending_dropped);
            self.append(frame::STREAM_INIT, n.as_bytes(), time_ns);
            self.pending_dropped = 0;
        }
    }

    /// Cumulative ACK from the host.
    pub fn ack(&mut self, seq: u64) {
        while let Some(front) = self.unacked.front() {
            if front.seq > seq {
                break;
            }
            self.held -= front.data_len;
            self.unacked.pop_front();
            if self.cursor > 0 {
                self.cursor -= 1;
            } else {
                // The host acked a frame we were still writing (it cannot have, unless it saw an older copy).
                self.offset = 0;
            }
        }
    }

    /// After a reconnect: resend every unacknowledged frame, oldest first.
    pub fn rewind(&mut self) {
        self.cursor = 0;
        self.offset = 0;
    }

    /// Bytes waiting to be written to the channel, if any.
    pub fn unsent(&self) -> Option<&[u8]> {
        self.unacked.get(self.cursor).map(|e| &e.bytes[self.offset..])
    }

    /// `n` bytes of [`unsent`] were written.
    pub fn advance(&mut self, n: usize) {
        let len = self.unacked[self.cursor].bytes.len();
        self.offset += n;
        if self.offset >= len {
            self.cursor += 1;
            self.offset = 0;
        }
    }

    /// The last seq handed out (0 before the first frame).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// True when every frame up to and including `seq` is acknowledged.
    pub fn acked_through(&self, seq: u64) -> bool {
        self.unacked.front().is_none_or(|e| e.seq > seq)
    }

    pub fn held_bytes(&self) -> usize {
        self.held
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Decoder, Message};

    fn drain(b: &mut LogBuffer, max_write: usize) -> Vec<Message> {
        let mut wire = Vec::new();
        while let Some(chunk) = b.unsent() {
            let n = chunk.len().min(max_write);
            wire.extend_from_slice(&chunk[..n]);
            b.advance(n);
        }
        let mut d = Decoder::new();
        d.push(&wire);
        std::iter::from_fn(|| d.next_frame()).map(|f| Message::decode(&f).unwrap()).collect()
    }

    fn seqs(m: &[Message]) -> Vec<u64> {
        m.iter().map(|m| if let Message::Log { seq, .. } = m { *seq } else { panic!() }).collect()
    }

    #[test]
    fn seq_starts_at_one_and_streams_stay_separate() {
        let mut b = LogBuffer::new(LogMode::Block, 1 << 20);
        b.push(1, b"out\n", 10);
        b.push(2, b"err\n", 11);
        let m = drain(&mut b, 5);
        assert_eq!(
            m,
            vec![
                Message::Log { seq: 1, time_ns: 10, stream: 1, data: b"out\n".to_vec() },
                Message::Log { seq: 2, time_ns: 11, stream: 2, data: b"err\n".to_vec() }
            ]
        );
    }

    #[test]
    fn resend_after_reconnect_starts_at_oldest_unacked() {
        let mut b = LogBuffer::new(LogMode::Block, 1 << 20);
        for i in 0..5u8 {
            b.push(1, &[b'a' + i], 0);
        }
        assert_eq!(seqs(&drain(&mut b, 3)), vec![1, 2, 3, 4, 5]);
        b.ack(2);
        assert!(b.unsent().is_none());
        b.rewind();
        assert_eq!(seqs(&drain(&mut b, 1000)), vec![3, 4, 5]);
        b.ack(5);
        assert!(b.acked_through(5));
        assert_eq!(b.held_bytes(), 0);
    }

    #[test]
    fn partial_write_then_rewind_resends_whole_frame() {
        let mut b = LogBuffer::new(LogMode::Block, 1 << 20);
        b.push(1, b"hello", 0);
        let n = b.unsent().unwrap().len();
        b.advance(n - 2);
        b.rewind();
        assert_eq!(seqs(&drain(&mut b, 7)), vec![1]);
    }

    #[test]
    fn ack_while_writing_keeps_cursor_consistent() {
        let mut b = LogBuffer::new(LogMode::Block, 1 << 20);
        b.push(1, b"a", 0);
        b.push(1, b"b", 0);
        b.push(1, b"c", 0);
        let n = b.unsent().unwrap().len();
        b.advance(n); // seq 1 written
        b.ack(1);
        assert_eq!(seqs(&drain(&mut b, 1000)), vec![2, 3]);
    }

    #[test]
    fn block_mode_budget_shrinks_to_zero() {
        let mut b = LogBuffer::new(LogMode::Block, 4096);
        assert_eq!(b.read_budget(), 4096);
        b.push(1, &[0u8; 4000], 0);
        assert_eq!(b.read_budget(), 96);
        b.push(2, &[0u8; 96], 0);
        assert_eq!(b.read_budget(), 0);
        b.ack(1);
        assert_eq!(b.read_budget(), 4000);
    }

    #[test]
    fn drop_mode_counts_and_notices() {
        let mut b = LogBuffer::new(LogMode::Drop, 4096);
        assert!(b.push(1, &[1u8; 4000], 0));
        assert!(!b.push(1, &[2u8; 200], 0));
        assert!(!b.push(1, &[3u8; 100], 0));
        assert_eq!(b.total_dropped, 300);
        b.ack(1);
        assert!(b.push(1, b"after\n", 0));
        let m = drain(&mut b, 1000);
        assert_eq!(
            m,
            vec![
                Message::Log {
                    seq: 2,
                    time_ns: 0,
                    stream: 3,
                    data: b"inferno-init: dropped 300 bytes of output\n".to_vec()
                },
                Message::Log { seq: 3, time_ns: 0, stream: 1, data: b"after\n".to_vec() },
            ]
        );
        assert_eq!(b.total_dropped, 300);
        assert!(!b.push(1, &[4u8; 4096], 0));
        b.flush_drop_notice(9);
        assert_eq!(
            drain(&mut b, 1000),
            vec![Message::Log {
                seq: 4,
                time_ns: 9,
                stream: 3,
                data: b"inferno-init: dropped 4096 bytes of output\n".to_vec()
            }]
        );
    }
}
