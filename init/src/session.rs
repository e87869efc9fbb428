//! The session channel of docs/PROTOCOL.md §10: session 0 (the main process's stdin and terminal) and the exec,
//! archive, stat and top sessions, each stream with its own credit. All of it runs inside init's one poll loop:
//! every fd here is non-blocking, nothing waits, and a session whose reader is slow stops only itself (its
//! process blocks in write(2); the main workload's LOG stream never travels here).

use crate::builtin::Builtin;
use crate::config::{self, Process};
use crate::frame::{Message, MAX_DATA};
use crate::json::{self, num, obj, string, Value};
use crate::process::{self, Started};
use crate::spec::Failure;
use crate::sys::{self, PollFd, POLLIN, POLLOUT};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Every (session, stream) starts with this credit, on both sides (§10).
pub const INITIAL_CREDIT: u32 = 262_144;
/// After the reap, how long a stream held open by a background process is still read.
const LINGER: Duration = Duration::from_millis(2000);
const STDIN: u8 = 0;
/// The terminal's EOF character (VEOF), what a terminal sends for Ctrl-D.
const CTRL_D: u8 = 0x04;

/// init's end of a process's stdin: what the host sent and the process has not read yet.
struct Sink {
    fd: i32,
    /// stdin was asked for; otherwise DATA is discarded (its credit returned) and EOF ignored.
    enabled: bool,
    /// Writing to a terminal: EOF is ^D, not a close.
    tty: bool,
    /// The fd is gone (EOF done, the reader exited, or the process never started).
    closed: bool,
    pending: Vec<u8>,
    /// What the host may still send.
    credit: u32,
    eof: bool,
}

impl Sink {
    /// Before the process exists (fd -1, not closed), bytes wait in `pending`.
    fn new(fd: i32, enabled: bool, tty: bool) -> Sink {
        Sink { fd, enabled, tty, closed: false, pending: Vec::new(), credit: INITIAL_CREDIT, eof: false }
    }

    fn set_fd(&mut self, fd: i32) {
        self.fd = fd;
        if fd < 0 {
            self.closed = true;
        }
    }

    fn data(&mut self, session: u32, bytes: &[u8], out: &mut Vec<Message>) {
        // bytes beyond the credit are the sender's protocol error: discarded
        let take = bytes.len().min(self.credit as usize);
        if !self.enabled || self.closed || self.eof {
            if take > 0 {
                out.push(Message::Window { session, stream: STDIN, bytes: take as u32 });
            }
            return;
        }
        self.credit -= take as u32;
        self.pending.extend_from_slice(&bytes[..take]);
        self.write(session, out);
    }

    fn end(&mut self, session: u32, out: &mut Vec<Message>) {
        if self.enabled && !self.closed {
            self.eof = true;
            self.write(session, out);
        }
    }

    fn wants_write(&self) -> bool {
        self.fd >= 0 && !self.closed && (!self.pending.is_empty() || self.eof)
    }

    /// Writes what the process can take now; returns the credit for what was written.
    fn write(&mut self, session: u32, out: &mut Vec<Message>) {
        if self.fd < 0 || self.closed {
            return;
        }
        let mut done = 0;
        while done < self.pending.len() {
            match sys::do_write(self.fd, &self.pending[done..]) {
                Ok(n) => done += n,
                Err(e) if e.raw_os_error() == Some(sys::EINTR) => {}
                Err(e) if e.raw_os_error() == Some(sys::EAGAIN) => break,
                Err(_) => {
                    // the reader is gone: what it will never read is given back too
                    done = self.pending.len();
                    self.close();
                }
            }
        }
        self.pending.drain(..done);
        if done > 0 {
            self.credit = self.credit.saturating_add(done as u32);
            out.push(Message::Window { session, stream: STDIN, bytes: done as u32 });
        }
        if self.eof && self.pending.is_empty() && !self.closed {
            if self.tty {
                match sys::do_write(self.fd, &[CTRL_D]) {
                    Ok(_) => self.close(),
                    Err(e) if matches!(e.raw_os_error(), Some(sys::EAGAIN) | Some(sys::EINTR)) => {}
                    Err(_) => self.close(),
                }
            } else {
                self.close();
            }
        }
    }

    fn close(&mut self) {
        if !self.closed {
            sys::do_close(self.fd);
            self.closed = true;
        }
    }
}

/// One output stream of a session (1 stdout, 2 stderr): read only while the host has granted credit.
struct Source {
    fd: i32,
    stream: u8,
    credit: u32,
    /// EOF was sent.
    done: bool,
}

impl Source {
    fn new(fd: i32, stream: u8) -> Source {
        Source { fd, stream, credit: INITIAL_CREDIT, done: false }
    }

    fn wants_read(&self) -> bool {
        self.fd >= 0 && self.credit > 0
    }

    /// Reads once (at most the credit); EOF (or EIO: a terminal whose last slave closed) ends the stream.
    /// Returns false when nothing was there.
    fn read(&mut self, session: u32, out: &mut Vec<Message>) -> bool {
        if !self.wants_read() {
            return false;
        }
        let mut buf = Vec::new();
        let max = (self.credit as usize).min(MAX_DATA);
        match sys::read_append(self.fd, &mut buf, max) {
            Ok(0) => self.close(session, out),
            Ok(n) => {
                self.credit -= n as u32;
                out.push(Message::Data { session, stream: self.stream, data: buf });
                return true;
            }
            Err(e) if matches!(e.raw_os_error(), Some(sys::EAGAIN) | Some(sys::EINTR)) => {}
            Err(_) => self.close(session, out),
        }
        false
    }

    fn close(&mut self, session: u32, out: &mut Vec<Message>) {
        sys::do_close(self.fd);
        self.fd = -1;
        if !self.done {
            self.done = true;
            out.push(Message::Eof { session, stream: self.stream });
        }
    }
}

struct Exec {
    pid: i32,
    stdin: Sink,
    outs: [Source; 2],
    /// The terminal's master for RESIZE; -1 without one.
    tty: i32,
    started_ns: u64,
    /// (code, signal, finished_ns) once reaped.
    exit: Option<(i32, Option<i32>, u64)>,
    reaped_at: Option<Instant>,
}

/// What a poll entry added by [`Sessions::poll_fds`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    MainStdin,
    Stdin(u32),
    Out(u32, usize),
}

pub struct Sessions {
    main: Sink,
    main_tty: i32,
    execs: BTreeMap<u32, Exec>,
    /// Set once the main process has exited: new sessions are refused with this.
    refuse: Option<String>,
}

/// The exit report of §6 for a session's CLOSED.
fn report(code: i32, signal: Option<i32>, started_ns: u64, finished_ns: u64, error: Option<String>) -> String {
    obj(vec![
        ("code", num(code)),
        ("signal", signal.map_or(Value::Null, num)),
        ("oom", Value::Bool(false)),
        ("started_ns", num(started_ns)),
        ("finished_ns", num(finished_ns)),
        ("error", error.map_or(Value::Null, string)),
    ])
    .to_json()
}

fn never_started(session: u32, f: Failure) -> Message {
    Message::Closed { session, json: report(f.code, None, 0, 0, Some(f.message)) }
}

/// What an OPEN asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Open {
    Exec(Process),
    Builtin(Builtin),
}

/// Parses an OPEN's JSON; the error is the CLOSED's (125).
pub fn parse_open(text: &str) -> Result<Open, String> {
    let v = json::parse(text).map_err(|e| format!("invalid session request: {e}"))?;
    let kind = v.get("kind").and_then(Value::as_str).ok_or("invalid session request: kind is missing")?;
    let path = || {
        v.get("path")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .ok_or(format!("invalid {kind} request: path is missing"))
    };
    Ok(match kind {
        "exec" => Open::Exec(config::parse_process(&v, "exec")?),
        "archive-get" => Open::Builtin(Builtin::ArchiveGet(path()?)),
        "archive-put" => Open::Builtin(Builtin::ArchivePut(path()?)),
        "stat" => Open::Builtin(Builtin::Stat(path()?)),
        "top" => Open::Builtin(Builtin::Top),
        k => return Err(format!("unknown session kind {:?}", k.chars().take(64).collect::<String>())),
    })
}

impl Sessions {
    /// Session 0 before the main process exists: `stdin` is process.stdin, `tty` process.tty.
    pub fn new(stdin: bool, tty: bool) -> Sessions {
        Sessions { main: Sink::new(-1, stdin, tty), main_tty: -1, execs: BTreeMap::new(), refuse: None }
    }

    /// The main process started: where its stdin goes (-1: nowhere) and its terminal (-1: none).
    pub fn main_started(&mut self, stdin: i32, tty: i32, out: &mut Vec<Message>) {
        self.main.set_fd(stdin);
        self.main_tty = tty;
        self.main.write(0, out);
    }

    /// The main process could not start, or has exited: its stdin is gone, and no new session starts.
    pub fn main_ended(&mut self, why: &str) {
        if self.main.fd < 0 {
            self.main.closed = true;
        }
        self.refuse = Some(why.to_string());
    }

    pub fn has_execs(&self) -> bool {
        !self.execs.is_empty()
    }

    pub fn poll_fds(&self, fds: &mut Vec<PollFd>, tokens: &mut Vec<Token>) {
        if self.main.wants_write() {
            fds.push(PollFd { fd: self.main.fd, events: POLLOUT, revents: 0 });
            tokens.push(Token::MainStdin);
        }
        for (&id, e) in &self.execs {
            if e.stdin.wants_write() {
                fds.push(PollFd { fd: e.stdin.fd, events: POLLOUT, revents: 0 });
                tokens.push(Token::Stdin(id));
            }
            for (k, s) in e.outs.iter().enumerate() {
                if s.wants_read() {
                    fds.push(PollFd { fd: s.fd, events: POLLIN, revents: 0 });
                    tokens.push(Token::Out(id, k));
                }
            }
        }
    }

    pub fn on_ready(&mut self, t: Token, out: &mut Vec<Message>) {
        match t {
            Token::MainStdin => self.main.write(0, out),
            Token::Stdin(id) => {
                if let Some(e) = self.execs.get_mut(&id) {
                    e.stdin.write(id, out);
                }
            }
            Token::Out(id, k) => {
                if let Some(e) = self.execs.get_mut(&id) {
                    e.outs[k].read(id, out);
                }
                self.close_finished(id, out);
            }
        }
    }

    /// A frame from the host.
    pub fn on_frame(&mut self, m: Message, out: &mut Vec<Message>) {
        match m {
            Message::Open { session, json } => self.open(session, &json, out),
            Message::Data { session: 0, stream: STDIN, data } => self.main.data(0, &data, out),
            Message::Eof { session: 0, stream: STDIN } => self.main.end(0, out),
            Message::Resize { session, rows, cols } => {
                let fd = if session == 0 { self.main_tty } else { self.execs.get(&session).map_or(-1, |e| e.tty) };
                if fd >= 0 && rows > 0 && cols > 0 {
                    let _ = sys::set_winsize(fd, rows, cols);
                }
            }
            Message::Data { session, stream: STDIN, data } => {
                if let Some(e) = self.execs.get_mut(&session) {
                    e.stdin.data(session, &data, out);
                }
            }
            Message::Eof { session, stream: STDIN } => {
                if let Some(e) = self.execs.get_mut(&session) {
                    e.stdin.end(session, out);
                }
            }
            Message::Window { session, stream: s @ (1 | 2), bytes } => {
                if let Some(e) = self.execs.get_mut(&session) {
                    let src = &mut e.outs[s as usize - 1];
                    src.credit = src.credit.saturating_add(bytes);
                }
            }
            Message::Signal { session, signal } if session != 0 => {
                if let Some(e) = self.execs.get(&session) {
                    if e.exit.is_none() && (1..=64).contains(&signal) {
                        let _ = sys::do_kill(e.pid, signal as i32);
                    }
                }
            }
            _ => {}
        }
    }

    fn open(&mut self, session: u32, text: &str, out: &mut Vec<Message>) {
        if session == 0 || self.execs.contains_key(&session) {
            // a host bug: answering would mix two sessions' frames
            return;
        }
        if let Some(why) = &self.refuse {
            out.push(never_started(session, Failure::setup(why.clone())));
            return;
        }
        let started = match parse_open(text) {
            Err(e) => Err(Failure::setup(e)),
            Ok(Open::Exec(p)) => start_exec(&p),
            Ok(Open::Builtin(b)) => b.check().and_then(|_| b.spawn()),
        };
        match started {
            Err(f) => out.push(never_started(session, f)),
            Ok((st, tty, stdin_enabled)) => {
                out.push(Message::Started { session, pid: st.pid as u32 });
                let mut e = Exec {
                    pid: st.pid,
                    stdin: Sink::new(st.stdin, stdin_enabled, tty),
                    outs: [Source::new(st.stdout, 1), Source::new(st.stderr, 2)],
                    tty: st.tty,
                    started_ns: crate::run::now_ns(),
                    exit: None,
                    reaped_at: None,
                };
                e.stdin.set_fd(st.stdin);
                // a terminal is one stream: stream 2 ends at once
                if st.stderr < 0 {
                    e.outs[1].close(session, out);
                }
                self.execs.insert(session, e);
            }
        }
    }

    /// A child of init was reaped; true when it was a session's process.
    pub fn on_reaped(&mut self, pid: i32, status: i32, out: &mut Vec<Message>) -> bool {
        let Some((&id, e)) = self.execs.iter_mut().find(|(_, e)| e.pid == pid && e.exit.is_none()) else {
            return false;
        };
        let (code, signal) = match sys::WaitStatus::from_raw(status) {
            sys::WaitStatus::Exited(c) => (c, None),
            sys::WaitStatus::Signaled(s) => (128 + s, Some(s)),
        };
        e.exit = Some((code, signal, crate::run::now_ns()));
        e.reaped_at = Some(Instant::now());
        // what the process wrote last is still in the pipes: read it before deciding
        for k in 0..2 {
            while e.outs[k].read(id, out) {}
        }
        self.close_finished(id, out);
        true
    }

    /// CLOSED once reaped and every output stream ended (§10 order).
    fn close_finished(&mut self, id: u32, out: &mut Vec<Message>) {
        let Some(e) = self.execs.get(&id) else { return };
        let Some((code, signal, finished)) = e.exit else { return };
        if !e.outs.iter().all(|s| s.done) {
            return;
        }
        let mut e = self.execs.remove(&id).unwrap();
        e.stdin.close();
        sys::do_close(e.tty);
        out.push(Message::Closed { session: id, json: report(code, signal, e.started_ns, finished, None) });
    }

    /// When the next linger deadline falls. Past deadlines do not count: what is left then waits for credit,
    /// which arrives as an event (a past deadline here would make init's poll spin).
    pub fn timer(&self, now: Instant) -> Option<Duration> {
        self.execs.values().filter_map(|e| e.reaped_at).map(|t| t + LINGER).filter(|&d| d > now).map(|d| d - now).min()
    }

    /// Linger deadlines: 2 s after the reap, a stream still held open (by a background process) is drained of
    /// what is there now, within its credit, and ended.
    pub fn tick(&mut self, now: Instant, out: &mut Vec<Message>) {
        let due: Vec<u32> = self
            .execs
            .iter()
            .filter(|(_, e)| e.reaped_at.is_some_and(|t| now >= t + LINGER))
            .map(|(&id, _)| id)
            .collect();
        for id in due {
            let e = self.execs.get_mut(&id).unwrap();
            for s in e.outs.iter_mut() {
                // a stream without credit waits for the host's WINDOW (its reader is slow, not gone)
                if s.fd >= 0 && s.credit > 0 {
                    while s.read(id, out) {}
                    if s.credit > 0 {
                        s.close(id, out);
                    }
                }
            }
            self.close_finished(id, out);
        }
    }

    /// The session channel (re)connected: session 0 starts again with full credit.
    pub fn on_connect(&mut self) {
        self.main.credit = INITIAL_CREDIT;
    }

    /// The session channel dropped: every exec of that connection is killed (its process group) and forgotten;
    /// stdin bytes not yet written are lost (§10: at-most-once across a reconnect).
    pub fn on_disconnect(&mut self) {
        self.main.pending.clear();
        for (_, mut e) in std::mem::take(&mut self.execs) {
            // the group, also after the reap: background processes of the session go too
            let _ = sys::do_kill(-e.pid, sys::SIGKILL);
            e.stdin.close();
            for s in &mut e.outs {
                sys::do_close(s.fd);
            }
            sys::do_close(e.tty);
        }
    }

    /// Shutdown, after the rest of the process tree was killed and reaped: the sessions whose process was
    /// reaped end now (EOFs, CLOSED); the others are forgotten.
    pub fn finish(&mut self, out: &mut Vec<Message>) {
        let ids: Vec<u32> = self.execs.keys().copied().collect();
        for id in ids {
            let e = self.execs.get_mut(&id).unwrap();
            if e.exit.is_some() {
                for s in e.outs.iter_mut() {
                    while s.read(id, out) {}
                    s.close(id, out);
                }
                self.close_finished(id, out);
            }
        }
        self.on_disconnect();
    }
}

/// An exec: resolved as the main process is (user, HOME, PATH), but its workdir must exist.
fn start_exec(p: &Process) -> Result<(Started, bool, bool), Failure> {
    let (user, env) = process::resolve(p)?;
    if !std::path::Path::new(&p.workdir).is_dir() {
        return Err(Failure::setup(format!("the working directory {} does not exist in the VM", p.workdir)));
    }
    let st = process::spawn(p, &user, &env)?;
    Ok((st, p.tty, p.stdin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipe() -> (i32, i32) {
        let (r, w) = sys::do_pipe(sys::O_CLOEXEC).unwrap();
        sys::set_nonblock(r);
        sys::set_nonblock(w);
        (r, w)
    }

    fn windows(out: &[Message]) -> u32 {
        out.iter().map(|m| if let Message::Window { bytes, .. } = m { *bytes } else { 0 }).sum()
    }

    #[test]
    fn stdin_is_written_within_credit_and_each_written_byte_is_granted_again() {
        let (r, w) = pipe();
        let mut s = Sessions::new(true, false);
        let mut out = Vec::new();
        // before the process exists, bytes wait (no WINDOW yet)
        s.on_frame(Message::Data { session: 0, stream: 0, data: b"early ".to_vec() }, &mut out);
        assert!(out.is_empty());
        s.main_started(w, -1, &mut out);
        assert_eq!(out, vec![Message::Window { session: 0, stream: 0, bytes: 6 }]);
        out.clear();
        // more than the credit: the excess is the sender's error and dropped
        let big = vec![7u8; INITIAL_CREDIT as usize + 100];
        s.on_frame(Message::Data { session: 0, stream: 0, data: big }, &mut out);
        // the pipe takes 64 KiB (default size); the rest waits, its credit not yet returned
        let granted = windows(&out);
        assert!(granted > 0 && granted < INITIAL_CREDIT, "granted {granted}");
        assert_eq!(s.main.credit, granted);
        let mut total = 6 + granted as usize;
        let mut buf = vec![0u8; 1 << 16];
        let mut drained = 0usize;
        loop {
            out.clear();
            while let Ok(n) = sys::do_read(r, &mut buf) {
                if n == 0 {
                    break;
                }
                drained += n;
            }
            s.on_ready(Token::MainStdin, &mut out);
            total += windows(&out) as usize;
            if s.main.pending.is_empty() && out.is_empty() {
                break;
            }
        }
        while let Ok(n) = sys::do_read(r, &mut buf) {
            if n == 0 {
                break;
            }
            drained += n;
        }
        assert_eq!(drained, 6 + INITIAL_CREDIT as usize, "exactly the credit reached the process");
        assert_eq!(total, 6 + INITIAL_CREDIT as usize, "every byte written was granted again, once");
        assert_eq!(s.main.credit, INITIAL_CREDIT);
        // EOF closes the pipe: the reader sees end of file
        s.on_frame(Message::Eof { session: 0, stream: 0 }, &mut out);
        assert_eq!(sys::do_read(r, &mut buf).unwrap(), 0);
        sys::do_close(r);
    }

    #[test]
    fn stdin_that_was_not_asked_for_is_discarded_with_its_credit_returned() {
        let mut s = Sessions::new(false, false);
        let mut out = Vec::new();
        s.main_started(-1, -1, &mut out);
        s.on_frame(Message::Data { session: 0, stream: 0, data: b"ignored".to_vec() }, &mut out);
        s.on_frame(Message::Eof { session: 0, stream: 0 }, &mut out);
        assert_eq!(out, vec![Message::Window { session: 0, stream: 0, bytes: 7 }]);
    }

    #[test]
    fn output_is_read_only_within_credit() {
        let (r, w) = pipe();
        sys::write_all(w, &[1u8; 50_000]);
        let mut src = Source::new(r, 1);
        src.credit = 30_000;
        let mut out = Vec::new();
        assert!(src.read(9, &mut out));
        assert!(!src.read(9, &mut out), "no credit left: nothing more is read");
        assert_eq!(out, vec![Message::Data { session: 9, stream: 1, data: vec![1u8; 30_000] }]);
        src.credit += 100_000;
        out.clear();
        assert!(src.read(9, &mut out));
        sys::do_close(w);
        assert!(!src.read(9, &mut out));
        assert_eq!(
            out,
            vec![
                Message::Data { session: 9, stream: 1, data: vec![1u8; 20_000] },
                Message::Eof { session: 9, stream: 1 }
            ]
        );
        assert!(src.done);
    }

    #[test]
    fn the_linger_timer_never_asks_for_a_past_deadline() {
        let (r, w) = pipe();
        let mut s = Sessions::new(false, false);
        let now = Instant::now();
        let mut held = Source::new(r, 1);
        held.credit = 0; // the host's reader is slow: the stream waits for its WINDOW
        let mut e = Exec {
            pid: -1,
            stdin: Sink::new(-1, false, false),
            outs: [held, Source::new(-1, 2)],
            tty: -1,
            started_ns: 0,
            exit: Some((0, None, 0)),
            reaped_at: Some(now - Duration::from_millis(500)),
        };
        e.outs[1].done = true;
        s.execs.insert(1, e);
        assert_eq!(s.timer(now), Some(Duration::from_millis(1500)));
        let later = now + Duration::from_secs(3);
        let mut out = Vec::new();
        s.tick(later, &mut out);
        assert!(out.is_empty() && s.has_execs(), "a stream without credit is not cut: {out:?}");
        assert_eq!(s.timer(later), None);
        // the WINDOW comes: what is there is sent, then the held stream ends and the session closes
        sys::write_all(w, b"late");
        s.on_frame(Message::Window { session: 1, stream: 1, bytes: 100 }, &mut out);
        s.tick(later, &mut out);
        assert_eq!(out[0], Message::Data { session: 1, stream: 1, data: b"late".to_vec() });
        assert_eq!(out[1], Message::Eof { session: 1, stream: 1 });
        assert!(matches!(out[2], Message::Closed { session: 1, .. }) && !s.has_execs());
        sys::do_close(w);
    }

    #[test]
    fn eof_on_a_terminal_is_ctrl_d_which_its_reader_sees_as_end_of_file() {
        let (master, slave) = sys::open_pty().unwrap();
        sys::set_nonblock(master);
        let mut s = Sessions::new(true, true);
        let mut out = Vec::new();
        s.main_started(sys::dup_cloexec(master).unwrap(), master, &mut out);
        s.on_frame(Message::Data { session: 0, stream: 0, data: b"line\n".to_vec() }, &mut out);
        s.on_frame(Message::Eof { session: 0, stream: 0 }, &mut out);
        assert_eq!(out, vec![Message::Window { session: 0, stream: 0, bytes: 5 }]);
        let mut buf = [0u8; 64];
        // canonical mode: one line per read, then ^D at the start of a line reads as end of file
        let n = sys::do_read(slave, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"line\n");
        assert_eq!(sys::do_read(slave, &mut buf).unwrap(), 0);
        // later stdin is not written any more, its credit still returned
        out.clear();
        s.on_frame(Message::Data { session: 0, stream: 0, data: b"late".to_vec() }, &mut out);
        assert_eq!(out, vec![Message::Window { session: 0, stream: 0, bytes: 4 }]);
        sys::do_close(slave);
        sys::do_close(master);
    }

    #[test]
    fn bad_open_requests_are_125_and_name_the_field() {
        let mut s = Sessions::new(false, false);
        let mut out = Vec::new();
        for (json, want) in [
            ("{", "invalid session request"),
            (r#"{"kind":"exec","argv":[]}"#, "exec.argv must not be empty"),
            (r#"{"kind":"exec","argv":["sh"],"workdir":"tmp"}"#, "exec.workdir must be an absolute path"),
            (r#"{"kind":"exec","argv":["sh"],"console_size":[0,80]}"#, "exec.console_size must be [rows, cols]"),
            (r#"{"kind":"archive-get"}"#, "invalid archive-get request: path is missing"),
            (r#"{"kind":"teleport"}"#, "unknown session kind \"teleport\""),
        ] {
            out.clear();
            s.on_frame(Message::Open { session: 3, json: json.into() }, &mut out);
            let [Message::Closed { session: 3, json: report }] = out.as_slice() else { panic!("{json}: {out:?}") };
            let v = json::parse(report).unwrap();
            assert_eq!(v.get("code").and_then(Value::as_i64), Some(125), "{json}");
            let err = v.get("error").and_then(Value::as_str).unwrap();
            assert!(err.contains(want), "{json}: {err:?} should contain {want:?}");
        }
        assert!(!s.has_execs());
        s.main_ended("the VM's main process has exited");
        out.clear();
        s.on_frame(Message::Open { session: 4, json: r#"{"kind":"top"}"#.into() }, &mut out);
        assert!(matches!(&out[..], [Message::Closed { session: 4, json }] if json.contains("main process has exited")));
    }

    /// A real exec on this machine (the tests run as root, like init): output, EOFs, then CLOSED after the reap.
    #[test]
    fn an_exec_streams_its_output_then_closes_with_its_exit_code() {
        let mut s = Sessions::new(false, false);
        let mut out = Vec::new();
        let open =
            r#"{"kind":"exec","argv":["/bin/sh","-c","read x; echo out:$x; echo err >&2; exit 3"],"stdin":true}"#;
        s.on_frame(Message::Open { session: 1, json: open.into() }, &mut out);
        let pid = match out.as_slice() {
            [Message::Started { session: 1, pid }] => *pid as i32,
            other => panic!("{other:?}"),
        };
        s.on_frame(Message::Data { session: 1, stream: 0, data: b"hi\n".to_vec() }, &mut out);
        let st = sys::wait_pid(pid).unwrap();
        assert!(s.on_reaped(pid, st, &mut out));
        let mut stdout = Vec::new();
        for m in &out {
            if let Message::Data { session: 1, stream: 1, data } = m {
                stdout.extend(data);
            }
        }
        assert_eq!(String::from_utf8(stdout).unwrap(), "out:hi\n");
        assert!(out.contains(&Message::Data { session: 1, stream: 2, data: b"err\n".to_vec() }), "{out:?}");
        assert!(out.contains(&Message::Window { session: 1, stream: 0, bytes: 3 }));
        let n = out.len();
        let eofs: Vec<usize> = (1..=2)
            .map(|k| out.iter().position(|m| *m == Message::Eof { session: 1, stream: k }).expect("both EOFs"))
            .collect();
        assert!(eofs.iter().all(|&p| p < n - 1) && matches!(out[n - 1], Message::Closed { session: 1, .. }), "{out:?}");
        let Message::Closed { json, .. } = &out[n - 1] else { unreachable!() };
        let v = json::parse(json).unwrap();
        assert_eq!(v.get("code").and_then(Value::as_i64), Some(3));
        assert!(!s.has_execs());
        // a missing command is 127, with the main process's text (§6)
        out.clear();
        s.on_frame(Message::Open { session: 2, json: r#"{"kind":"exec","argv":["no-such-cmd"]}"#.into() }, &mut out);
        let [Message::Closed { session: 2, json }] = out.as_slice() else { panic!("{out:?}") };
        assert!(json.contains(r#""code":127"#) && json.contains("executable file not found in $PATH"), "{json}");
        while sys::wait_any_nohang().is_some() {}
    }
}
