//! Framing of docs/PROTOCOL.md §2–3: a 16-byte header with its own CRC, then the payload.

pub const MAGIC: [u8; 2] = [0x49, 0x46];
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 16;
pub const MAX_PAYLOAD: usize = 65536;
/// LOG payload = u64 seq + u64 time + u8 stream + data.
pub const LOG_OVERHEAD: usize = 17;
pub const MAX_LOG_DATA: usize = MAX_PAYLOAD - LOG_OVERHEAD;

pub const HELLO: u8 = 0x01;
pub const LOG: u8 = 0x02;
pub const ACK: u8 = 0x03;
pub const EXIT: u8 = 0x04;
pub const EXIT_ACK: u8 = 0x05;
pub const CONTROL: u8 = 0x06;
pub const CONTROL_REPLY: u8 = 0x07;
pub const METRICS: u8 = 0x08;
// session extension 1 (§10)
pub const OPEN: u8 = 0x09;
pub const STARTED: u8 = 0x0A;
pub const DATA: u8 = 0x0B;
pub const EOF: u8 = 0x0C;
pub const WINDOW: u8 = 0x0D;
pub const RESIZE: u8 = 0x0E;
pub const SIGNAL: u8 = 0x0F;
pub const CLOSED: u8 = 0x10;
/// DATA payload = u32 session + u8 stream + bytes.
pub const DATA_OVERHEAD: usize = 5;
pub const MAX_DATA: usize = MAX_PAYLOAD - DATA_OVERHEAD;

pub const CH_LOGS: u8 = 1;
pub const CH_EXIT: u8 = 2;
pub const CH_CONTROL: u8 = 3;
pub const CH_METRICS: u8 = 4;
pub const CH_SESSION: u8 = 5;

pub const STREAM_STDOUT: u8 = 1;
pub const STREAM_STDERR: u8 = 2;
pub const STREAM_INIT: u8 = 3;

/// Slicing-by-8 tables: init checksums every byte it forwards, and under TCG the byte-at-a-time loop was a
/// visible share of the log path.
const CRC_TABLES: [[u32; 256]; 8] = {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        s += 1;
    }
    t
};

/// CRC-32 (IEEE 802.3, as zlib and java.util.zip.CRC32).
pub fn crc32(data: &[u8]) -> u32 {
    // under TCG the table loop was a large share of init's per-byte cost: fold with PCLMULQDQ when the CPU has it
    if data.len() >= 128 {
        if let Some((c, tail)) = crate::sys::crc32_fold(data) {
            return crc32_tables(c, tail);
        }
    }
    crc32_tables(!0, data)
}

/// `c` is the running register (start with !0); the result is the final CRC.
fn crc32_tables(mut c: u32, data: &[u8]) -> u32 {
    let t = &CRC_TABLES;
    let mut chunks = data.chunks_exact(8);
    for b in &mut chunks {
        let one = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) ^ c;
        let two = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        c = t[7][(one & 0xFF) as usize]
            ^ t[6][((one >> 8) & 0xFF) as usize]
            ^ t[5][((one >> 16) & 0xFF) as usize]
            ^ t[4][(one >> 24) as usize]
            ^ t[3][(two & 0xFF) as usize]
            ^ t[2][((two >> 8) & 0xFF) as usize]
            ^ t[1][((two >> 16) & 0xFF) as usize]
            ^ t[0][(two >> 24) as usize];
    }
    for &b in chunks.remainder() {
        c = t[0][((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

/// A frame as it travels: its type and raw payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub payload: Vec<u8>,
}

pub fn encode(kind: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= MAX_PAYLOAD, "frame payload over {MAX_PAYLOAD} bytes");
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&crc32(payload).to_be_bytes());
    let hc = crc32(&out[..12]);
    out.extend_from_slice(&hc.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Typed view of the payloads of §3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Hello {
        channel: u8,
        boot_id: u64,
        vm_id: String,
    },
    Log {
        seq: u64,
        time_ns: u64,
        stream: u8,
        data: Vec<u8>,
    },
    Ack {
        seq: u64,
    },
    Exit(String),
    ExitAck,
    Control(String),
    ControlReply(String),
    Metrics(String),
    Open {
        session: u32,
        json: String,
    },
    Started {
        session: u32,
        pid: u32,
    },
    Data {
        session: u32,
        stream: u8,
        data: Vec<u8>,
    },
    Eof {
        session: u32,
        stream: u8,
    },
    Window {
        session: u32,
        stream: u8,
        bytes: u32,
    },
    Resize {
        session: u32,
        rows: u16,
        cols: u16,
    },
    Signal {
        session: u32,
        signal: u32,
    },
    Closed {
        session: u32,
        json: String,
    },
    /// A type this side does not know: skipped whole by readers.
    Unknown(u8),
}

fn be64(b: &[u8]) -> u64 {
    u64::from_be_bytes(b[..8].try_into().unwrap())
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().unwrap())
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes(b[..2].try_into().unwrap())
}

/// A session frame's payload: the u32 session id, then `rest`.
fn session_payload(session: u32, rest: &[&[u8]]) -> Vec<u8> {
    let mut p = session.to_be_bytes().to_vec();
    for r in rest {
        p.extend_from_slice(r);
    }
    p
}

impl Message {
    pub fn kind(&self) -> u8 {
        match self {
            Message::Hello { .. } => HELLO,
            Message::Log { .. } => LOG,
            Message::Ack { .. } => ACK,
            Message::Exit(_) => EXIT,
            Message::ExitAck => EXIT_ACK,
            Message::Control(_) => CONTROL,
            Message::ControlReply(_) => CONTROL_REPLY,
            Message::Metrics(_) => METRICS,
            Message::Open { .. } => OPEN,
            Message::Started { .. } => STARTED,
            Message::Data { .. } => DATA,
            Message::Eof { .. } => EOF,
            Message::Window { .. } => WINDOW,
            Message::Resize { .. } => RESIZE,
            Message::Signal { .. } => SIGNAL,
            Message::Closed { .. } => CLOSED,
            Message::Unknown(k) => *k,
        }
    }

    pub fn payload(&self) -> Vec<u8> {
        match self {
            Message::Hello { channel, boot_id, vm_id } => {
                let mut p = vec![*channel];
                p.extend_from_slice(&boot_id.to_be_bytes());
                p.extend_from_slice(vm_id.as_bytes());
                p
            }
            Message::Log { seq, time_ns, stream, data } => log_payload(*seq, *time_ns, *stream, data),
            Message::Ack { seq } => seq.to_be_bytes().to_vec(),
            Message::Exit(s) | Message::Control(s) | Message::ControlReply(s) | Message::Metrics(s) => {
                s.as_bytes().to_vec()
            }
            Message::ExitAck | Message::Unknown(_) => Vec::new(),
            Message::Open { session, json } | Message::Closed { session, json } => {
                session_payload(*session, &[json.as_bytes()])
            }
            Message::Started { session, pid } => session_payload(*session, &[&pid.to_be_bytes()]),
            Message::Data { session, stream, data } => session_payload(*session, &[&[*stream], data]),
            Message::Eof { session, stream } => session_payload(*session, &[&[*stream]]),
            Message::Window { session, stream, bytes } => {
                session_payload(*session, &[&[*stream], &bytes.to_be_bytes()])
            }
            Message::Resize { session, rows, cols } => {
                session_payload(*session, &[&rows.to_be_bytes(), &cols.to_be_bytes()])
            }
            Message::Signal { session, signal } => session_payload(*session, &[&signal.to_be_bytes()]),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        encode(self.kind(), &self.payload())
    }

    /// Interprets a frame; `None` when the payload does not fit its type (treated like a corrupt frame).
    pub fn decode(f: &Frame) -> Option<Message> {
        let p = &f.payload;
        let text = || String::from_utf8(p.clone()).ok();
        Some(match f.kind {
            HELLO if p.len() >= 9 => Message::Hello {
                channel: p[0],
                boot_id: be64(&p[1..]),
                vm_id: String::from_utf8(p[9..].to_vec()).ok()?,
            },
            LOG if p.len() > LOG_OVERHEAD => {
                Message::Log { seq: be64(p), time_ns: be64(&p[8..]), stream: p[16], data: p[17..].to_vec() }
            }
            ACK if p.len() == 8 => Message::Ack { seq: be64(p) },
            EXIT => Message::Exit(text()?),
            EXIT_ACK if p.is_empty() => Message::ExitAck,
            // lossy: a CONTROL that is not UTF-8 still gets its (error) reply, keeping replies in step
            CONTROL => Message::Control(String::from_utf8_lossy(p).into_owned()),
            CONTROL_REPLY => Message::ControlReply(text()?),
            METRICS => Message::Metrics(text()?),
            // lossy for the same reason as CONTROL: a bad OPEN still gets its CLOSED (125)
            OPEN if p.len() >= 4 => {
                Message::Open { session: be32(p), json: String::from_utf8_lossy(&p[4..]).into_owned() }
            }
            STARTED if p.len() == 8 => Message::Started { session: be32(p), pid: be32(&p[4..]) },
            DATA if p.len() > DATA_OVERHEAD => Message::Data { session: be32(p), stream: p[4], data: p[5..].to_vec() },
            EOF if p.len() == 5 => Message::Eof { session: be32(p), stream: p[4] },
            WINDOW if p.len() == 9 => Message::Window { session: be32(p), stream: p[4], bytes: be32(&p[5..]) },
            RESIZE if p.len() == 8 => Message::Resize { session: be32(p), rows: be16(&p[4..]), cols: be16(&p[6..]) },
            SIGNAL if p.len() == 8 => Message::Signal { session: be32(p), signal: be32(&p[4..]) },
            CLOSED if p.len() >= 4 => {
                Message::Closed { session: be32(p), json: String::from_utf8(p[4..].to_vec()).ok()? }
            }
            HELLO | LOG | ACK | EXIT_ACK | OPEN | STARTED | DATA | EOF | WINDOW | RESIZE | SIGNAL | CLOSED => {
                return None
            }
            k => Message::Unknown(k),
        })
    }
}

/// Bytes to reserve in front of LOG data so the frame can be completed in place ([`finish_log_frame`]).
pub const LOG_PREFIX: usize = HEADER_LEN + LOG_OVERHEAD;

/// Completes a LOG frame whose data was read straight into `buf[LOG_PREFIX..]` (no copy of the data).
pub fn finish_log_frame(buf: &mut [u8], seq: u64, time_ns: u64, stream: u8) {
    let len = buf.len() - HEADER_LEN;
    assert!(buf.len() > LOG_PREFIX && len <= MAX_PAYLOAD);
    buf[16..24].copy_from_slice(&seq.to_be_bytes());
    buf[24..32].copy_from_slice(&time_ns.to_be_bytes());
    buf[32] = stream;
    let pcrc = crc32(&buf[HEADER_LEN..]);
    buf[..2].copy_from_slice(&MAGIC);
    buf[2] = VERSION;
    buf[3] = LOG;
    buf[4..8].copy_from_slice(&(len as u32).to_be_bytes());
    buf[8..12].copy_from_slice(&pcrc.to_be_bytes());
    let hc = crc32(&buf[..12]);
    buf[12..16].copy_from_slice(&hc.to_be_bytes());
}

pub fn log_payload(seq: u64, time_ns: u64, stream: u8, data: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(LOG_OVERHEAD + data.len());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&time_ns.to_be_bytes());
    p.push(stream);
    p.extend_from_slice(data);
    p
}

/// Incremental reader with the resynchronisation rule of §2: anything that is not a valid frame costs one byte.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
    start: usize,
    /// Bytes skipped while resynchronising (for diagnostics).
    pub skipped: u64,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Forgets a partial frame (after a reconnect the old stream's tail is meaningless).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            let b = &self.buf[self.start..];
            if b.is_empty() {
                return None;
            }
            // Find the next possible magic.
            if b[0] != MAGIC[0] {
                let skip = b.iter().position(|&c| c == MAGIC[0]).unwrap_or(b.len());
                self.start += skip;
                self.skipped += skip as u64;
                continue;
            }
            if b.len() < HEADER_LEN {
                // Can we already tell it is not a header?
                if b.len() >= 2 && b[1] != MAGIC[1] || b.len() >= 3 && b[2] != VERSION {
                    self.skip1();
                    continue;
                }
                return None;
            }
            let len = u32::from_be_bytes(b[4..8].try_into().unwrap()) as usize;
            let pcrc = u32::from_be_bytes(b[8..12].try_into().unwrap());
            let hcrc = u32::from_be_bytes(b[12..16].try_into().unwrap());
            if b[1] != MAGIC[1] || b[2] != VERSION || len > MAX_PAYLOAD || crc32(&b[..12]) != hcrc {
                self.skip1();
                continue;
            }
            if b.len() < HEADER_LEN + len {
                return None;
            }
            let payload = &b[HEADER_LEN..HEADER_LEN + len];
            if crc32(payload) != pcrc {
                self.skip1();
                continue;
            }
            let f = Frame { kind: b[3], payload: payload.to_vec() };
            self.start += HEADER_LEN + len;
            return Some(f);
        }
    }

    fn skip1(&mut self) {
        self.start += 1;
        self.skipped += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn crc_slicing_matches_bytewise_for_every_length() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..data.len() {
            let mut c = 0xFFFF_FFFFu32;
            for &b in &data[..n] {
                c = CRC_TABLES[0][((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
            }
            assert_eq!(crc32(&data[..n]), c ^ 0xFFFF_FFFF, "length {n}");
        }
    }

    #[test]
    fn crc_paths_agree_on_long_inputs() {
        let mut x = 0x1234_5678u32;
        let data: Vec<u8> = (0..70_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for n in (0..2000).chain([65_536, 65_551, 70_000]) {
            assert_eq!(crc32(&data[..n]), crc32_tables(!0, &data[..n]), "length {n}");
        }
        #[cfg(target_arch = "x86_64")]
        assert!(
            crate::sys::crc32_fold(&data).is_some(),
            "expected PCLMULQDQ on this machine, so the fast path is tested"
        );
    }

    #[test]
    fn in_place_log_frame_equals_encoded_frame() {
        let mut buf = vec![0u8; LOG_PREFIX];
        buf.extend_from_slice(b"in place\n");
        finish_log_frame(&mut buf, 9, 1234, 2);
        assert_eq!(buf, Message::Log { seq: 9, time_ns: 1234, stream: 2, data: b"in place\n".to_vec() }.encode());
    }

    #[test]
    fn decodes_byte_by_byte() {
        let mut all = Vec::new();
        all.extend(Message::Ack { seq: 7 }.encode());
        all.extend(Message::Control("{\"op\":\"stop\"}".into()).encode());
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for b in all {
            d.push(&[b]);
            while let Some(f) = d.next_frame() {
                got.push(Message::decode(&f).unwrap());
            }
        }
        assert_eq!(got, vec![Message::Ack { seq: 7 }, Message::Control("{\"op\":\"stop\"}".into())]);
    }

    #[test]
    fn stray_magic_inside_garbage_does_not_stall() {
        // A fake header whose length claims 60000 bytes but whose header CRC is wrong.
        let mut bytes = vec![0x49, 0x46, 0x01, 0x02, 0, 0, 0xEA, 0x60, 1, 2, 3, 4, 5, 6, 7, 8];
        bytes.extend(Message::Ack { seq: 1 }.encode());
        let mut d = Decoder::new();
        d.push(&bytes);
        assert_eq!(Message::decode(&d.next_frame().unwrap()), Some(Message::Ack { seq: 1 }));
        assert_eq!(d.skipped, 16);
    }

    #[test]
    fn unknown_types_are_returned_whole_and_bad_payloads_rejected() {
        let mut d = Decoder::new();
        d.push(&encode(0x7f, b"future"));
        d.push(&encode(ACK, b"short"));
        let f = d.next_frame().unwrap();
        assert_eq!(Message::decode(&f), Some(Message::Unknown(0x7f)));
        assert_eq!(Message::decode(&d.next_frame().unwrap()), None);
        // session frames with the wrong size are corrupt, not guessed at
        for (kind, payload) in
            [(EOF, &[0u8, 0, 0, 1][..]), (WINDOW, &[0, 0, 0, 1, 1, 0][..]), (DATA, &[0, 0, 0, 1, 0][..])]
        {
            assert_eq!(Message::decode(&Frame { kind, payload: payload.to_vec() }), None, "type {kind}");
        }
        let open = Frame { kind: OPEN, payload: vec![0, 0, 0, 9, 0xff, b'{'] };
        assert_eq!(Message::decode(&open), Some(Message::Open { session: 9, json: "\u{fffd}{".into() }));
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn expected(v: &crate::json::Value) -> Message {
        let s = |k: &str| v.get(k).unwrap().as_str().unwrap().to_string();
        let n = |k: &str| s(k).parse::<u64>().unwrap();
        let b = |k: &str| v.get(k).unwrap().as_u64().unwrap() as u8;
        let u = |k: &str| v.get(k).unwrap().as_u64().unwrap();
        let sess = || u("session") as u32;
        match v.get("type").unwrap().as_str().unwrap() {
            "HELLO" => Message::Hello { channel: b("channel"), boot_id: n("boot_id"), vm_id: s("vm_id") },
            "LOG" => Message::Log {
                seq: n("seq"),
                time_ns: n("guest_time_ns"),
                stream: b("stream"),
                data: hex(&s("data_hex")),
            },
            "ACK" => Message::Ack { seq: n("seq") },
            "EXIT" => Message::Exit(s("json")),
            "EXIT_ACK" => Message::ExitAck,
            "CONTROL" => Message::Control(s("json")),
            "CONTROL_REPLY" => Message::ControlReply(s("json")),
            "METRICS" => Message::Metrics(s("json")),
            "OPEN" => Message::Open { session: sess(), json: s("json") },
            "STARTED" => Message::Started { session: sess(), pid: u("pid") as u32 },
            "DATA" => Message::Data { session: sess(), stream: b("stream"), data: hex(&s("data_hex")) },
            "EOF" => Message::Eof { session: sess(), stream: b("stream") },
            "WINDOW" => Message::Window { session: sess(), stream: b("stream"), bytes: u("bytes") as u32 },
            "RESIZE" => Message::Resize { session: sess(), rows: u("rows") as u16, cols: u("cols") as u16 },
            "SIGNAL" => Message::Signal { session: sess(), signal: u("signal") as u32 },
            "CLOSED" => Message::Closed { session: sess(), json: s("json") },
            t => panic!("unknown vector type {t}"),
        }
    }

    /// Every golden vector of testdata/protocol decodes to its frames; those marked `encodes` re-encode exactly.
    #[test]
    fn golden_vectors() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/protocol");
        let index = crate::json::parse(&std::fs::read_to_string(dir.join("vectors.json")).unwrap()).unwrap();
        let vectors = index.get("vectors").unwrap().as_array().unwrap();
        assert!(vectors.len() >= 32, "expected the full vector set, found {}", vectors.len());
        let mut saw_resync = false;
        for v in vectors {
            let file = v.get("file").unwrap().as_str().unwrap();
            let bytes = std::fs::read(dir.join(file)).unwrap();
            let want: Vec<Message> = v.get("frames").unwrap().as_array().unwrap().iter().map(expected).collect();
            // Whole buffer at once, and byte by byte: both must give the same frames.
            for chunk in [bytes.len(), 1] {
                let mut d = Decoder::new();
                let mut got = Vec::new();
                for piece in bytes.chunks(chunk) {
                    d.push(piece);
                    while let Some(f) = d.next_frame() {
                        match Message::decode(&f) {
                            // unknown types are skipped whole by readers (§2)
                            Some(Message::Unknown(_)) => {}
                            Some(m) => got.push(m),
                            None => panic!("{file}: undecodable payload"),
                        }
                    }
                }
                assert_eq!(got, want, "{file} (chunk {chunk})");
            }
            if v.get("encodes").unwrap().as_bool().unwrap() {
                let enc: Vec<u8> = want.iter().flat_map(|m| m.encode()).collect();
                assert_eq!(enc, bytes, "{file}: encoding differs");
            } else {
                saw_resync = true;
                let mut d = Decoder::new();
                d.push(&bytes);
                while d.next_frame().is_some() {}
                assert!(d.skipped > 0, "{file}: expected garbage to be skipped");
            }
        }
        assert!(saw_resync);
    }
}
