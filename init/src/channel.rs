//! One protocol channel (docs/PROTOCOL.md §1) over a virtio-serial port or AF_VSOCK, with reconnects.
//!
//! virtio-serial: the port stays open; the host's presence shows as the absence of POLLHUP. A port without a
//! host reports POLLHUP on every poll, so a disconnected port is left out of the main poll set and probed on a
//! short timer instead. vsock: the guest connects to CID 2 (logs, exit, metrics) with backoff, or accepts the
//! host's connection (control).

use crate::frame::{Decoder, Message};
use crate::sys::{self, PollFd, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};
use std::time::{Duration, Instant};

/// By channel id - 1 (§1).
pub const PORT_NAMES: [&str; 5] =
    ["dev.inferno.logs", "dev.inferno.exit", "dev.inferno.control", "dev.inferno.metrics", "dev.inferno.session"];

pub enum Kind {
    /// `/dev/vportNpM`, opened once.
    Serial { fd: i32 },
    /// Guest connects to the host.
    VsockConnect { port: u32, fd: i32, connecting: bool, retry_at: Instant, backoff: Duration },
    /// Host connects to the guest (control and session channels).
    VsockListen { listen_fd: i32, fd: i32 },
    /// Not available (no such port): everything written is discarded.
    Absent,
}

pub struct Channel {
    pub id: u8,
    pub kind: Kind,
    pub connected: bool,
    /// Frames queued for this connection (HELLO, EXIT, replies, metrics); log frames come from the LogBuffer.
    pub out: Vec<u8>,
    pub decoder: Decoder,
    boot_id: u64,
    vm_id: String,
}

/// What a poll round observed for one channel.
#[derive(Default)]
pub struct Events {
    pub connected_now: bool,
    pub disconnected_now: bool,
    pub frames: Vec<Message>,
}

impl Channel {
    pub fn new(id: u8, kind: Kind, boot_id: u64, vm_id: &str) -> Self {
        Channel { id, kind, connected: false, out: Vec::new(), decoder: Decoder::new(), boot_id, vm_id: vm_id.into() }
    }

    pub fn hello(&self) -> Vec<u8> {
        Message::Hello { channel: self.id, boot_id: self.boot_id, vm_id: self.vm_id.clone() }.encode()
    }

    pub fn is_absent(&self) -> bool {
        matches!(self.kind, Kind::Absent)
    }

    /// The fd to poll and the events wanted, if any; `want_write` when there is something to write.
    pub fn poll_fd(&self, want_write: bool) -> Option<PollFd> {
        let w = if want_write { POLLOUT } else { 0 };
        match &self.kind {
            Kind::Serial { fd } if self.connected => Some(PollFd { fd: *fd, events: POLLIN | w, revents: 0 }),
            Kind::VsockConnect { fd, connecting: true, .. } if *fd >= 0 => {
                Some(PollFd { fd: *fd, events: POLLOUT, revents: 0 })
            }
            Kind::VsockConnect { fd, .. } if *fd >= 0 => Some(PollFd { fd: *fd, events: POLLIN | w, revents: 0 }),
            Kind::VsockListen { fd, .. } if *fd >= 0 => Some(PollFd { fd: *fd, events: POLLIN | w, revents: 0 }),
            Kind::VsockListen { listen_fd, .. } if *listen_fd >= 0 => {
                Some(PollFd { fd: *listen_fd, events: POLLIN, revents: 0 })
            }
            _ => None,
        }
    }

    /// How soon this channel needs attention while disconnected (probe or reconnect), if at all.
    pub fn timer(&self, now: Instant) -> Option<Duration> {
        match &self.kind {
            Kind::Serial { .. } if !self.connected => Some(Duration::from_millis(50)),
            Kind::VsockConnect { fd, retry_at, .. } if *fd < 0 => Some(retry_at.saturating_duration_since(now)),
            _ => None,
        }
    }

    /// Housekeeping without poll results: probe a disconnected serial port, start a due vsock connect.
    pub fn tick(&mut self, now: Instant) -> Events {
        let mut ev = Events::default();
        match &mut self.kind {
            Kind::Serial { fd } if !self.connected => {
                let mut p = [PollFd { fd: *fd, events: POLLOUT, revents: 0 }];
                if sys::do_poll(&mut p, 0).is_ok() && p[0].revents & (POLLHUP | POLLERR | POLLNVAL) == 0 {
                    self.on_connect(&mut ev);
                }
            }
            Kind::VsockConnect { port, fd, connecting, retry_at, backoff } if *fd < 0 && now >= *retry_at => {
                match sys::vsock_connect(sys::VMADDR_CID_HOST, *port) {
                    Ok(f) => {
                        *fd = f;
                        *connecting = true;
                    }
                    Err(_) => {
                        *retry_at = now + *backoff;
                        *backoff = (*backoff * 2).min(Duration::from_secs(1));
                    }
                }
            }
            _ => {}
        }
        ev
    }

    fn on_connect(&mut self, ev: &mut Events) {
        self.connected = true;
        self.out.clear();
        self.out.extend(self.hello());
        self.decoder.reset();
        ev.connected_now = true;
    }

    fn on_disconnect(&mut self, ev: &mut Events) {
        if !self.connected && !matches!(self.kind, Kind::VsockConnect { connecting: true, .. }) {
            return;
        }
        self.connected = false;
        self.out.clear();
        ev.disconnected_now = true;
        let now = Instant::now();
        match &mut self.kind {
            Kind::VsockConnect { fd, connecting, retry_at, backoff, .. } => {
                sys::do_close(*fd);
                *fd = -1;
                *connecting = false;
                *retry_at = now + *backoff;
                *backoff = (*backoff * 2).min(Duration::from_secs(1));
            }
            Kind::VsockListen { fd, .. } => {
                sys::do_close(*fd);
                *fd = -1;
            }
            _ => {}
        }
    }

    /// Handles poll results for this channel's fd: connect completion, reads (frames), hang-ups.
    pub fn handle(&mut self, revents: i16) -> Events {
        let mut ev = Events::default();
        match &mut self.kind {
            Kind::VsockConnect { fd, connecting, backoff, .. } if *connecting => {
                if revents & (POLLOUT | POLLERR | POLLHUP) != 0 {
                    if sys::socket_error(*fd) == 0 && revents & (POLLERR | POLLHUP) == 0 {
                        *connecting = false;
                        *backoff = Duration::from_millis(50);
                        self.on_connect(&mut ev);
                    } else {
                        self.on_disconnect(&mut ev);
                    }
                }
                return ev;
            }
            Kind::VsockListen { listen_fd, fd } if *fd < 0 => {
                if revents & POLLIN != 0 {
                    if let Ok(c) = sys::do_accept(*listen_fd) {
                        *fd = c;
                        self.on_connect(&mut ev);
                    }
                }
                return ev;
            }
            _ => {}
        }
        if revents & POLLIN != 0 {
            self.read_frames(&mut ev);
        }
        if revents & (POLLHUP | POLLERR | POLLNVAL) != 0 && self.connected {
            // Serial: data the host sent before leaving is still readable; read it first.
            self.read_frames(&mut ev);
            self.on_disconnect(&mut ev);
        }
        ev
    }

    fn fd(&self) -> i32 {
        match &self.kind {
            Kind::Serial { fd } => *fd,
            Kind::VsockConnect { fd, .. } => *fd,
            Kind::VsockListen { fd, .. } => *fd,
            Kind::Absent => -1,
        }
    }

    fn read_frames(&mut self, ev: &mut Events) {
        let fd = self.fd();
        if fd < 0 || !self.connected {
            return;
        }
        let mut buf = [0u8; 8192];
        loop {
            match sys::do_read(fd, &mut buf) {
                Ok(0) => {
                    // EOF: no host (serial) or the host closed (vsock).
                    self.on_disconnect(ev);
                    break;
                }
                Ok(n) => {
                    self.decoder.push(&buf[..n]);
                    while let Some(f) = self.decoder.next_frame() {
                        if let Some(m) = Message::decode(&f) {
                            ev.frames.push(m);
                        }
                    }
                    if n < buf.len() {
                        break;
                    }
                }
                Err(e) if e.raw_os_error() == Some(sys::EINTR) => {}
                Err(e) if e.raw_os_error() == Some(sys::EAGAIN) => break,
                Err(_) => {
                    self.on_disconnect(ev);
                    break;
                }
            }
        }
    }

    /// Writes `data` once (non-blocking): bytes written, 0 when the channel cannot take more now or is gone.
    pub fn write_raw(&mut self, data: &[u8]) -> usize {
        let fd = self.fd();
        if !self.connected || fd < 0 || data.is_empty() {
            return 0;
        }
        loop {
            match sys::do_write(fd, data) {
                Ok(n) => return n,
                Err(e) if e.raw_os_error() == Some(sys::EINTR) => continue,
                Err(e) if e.raw_os_error() == Some(sys::EAGAIN) => return 0,
                Err(_) => {
                    let mut ev = Events::default();
                    self.on_disconnect(&mut ev);
                    return 0;
                }
            }
        }
    }

    /// Writes queued frames; true when the queue is empty afterwards.
    pub fn flush_out(&mut self) -> bool {
        while !self.out.is_empty() {
            let out = std::mem::take(&mut self.out);
            let n = self.write_raw(&out);
            if !self.connected {
                return false;
            }
            self.out = out[n..].to_vec();
            if n == 0 {
                return false;
            }
        }
        self.connected
    }

    pub fn send(&mut self, m: &Message) {
        if self.connected {
            self.out.extend(m.encode());
        }
    }

    /// vsock: half-close after the last frame (§8). Serial ports stay open until reboot.
    pub fn finish(&mut self) {
        if let Kind::VsockConnect { fd, .. } | Kind::VsockListen { fd, .. } = &self.kind {
            if *fd >= 0 {
                sys::shutdown_write(*fd);
            }
        }
    }
}

/// Finds virtio-serial ports by name: (name, /dev path).
pub fn virtio_ports() -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/sys/class/virtio-ports") {
        for e in dir.flatten() {
            let dev = e.file_name().to_string_lossy().into_owned();
            if let Ok(name) = std::fs::read_to_string(e.path().join("name")) {
                out.push((name.trim().to_string(), format!("/dev/{dev}")));
            }
        }
    }
    out
}

/// True when the VM has a virtio console device (virtio device id 3), i.e. named ports may still appear.
pub fn has_virtio_console() -> bool {
    std::fs::read_dir("/sys/bus/virtio/devices")
        .map(|d| {
            d.flatten().any(|e| {
                std::fs::read_to_string(e.path().join("device")).map(|s| s.trim() == "0x0003").unwrap_or(false)
            })
        })
        .unwrap_or(false)
}
