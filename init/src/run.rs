//! PID 1: the whole life of the guest, from the first mount to reboot(2).

use crate::channel::{self, Channel, Kind, PORT_NAMES};
use crate::config::{self, RunConfig, Transport};
use crate::frame::{self, Message};
use crate::json::{self, num, obj, string, Value};
use crate::logbuf::LogBuffer;
use crate::rootfs::{self, Root};
use crate::session::{Sessions, Token};
use crate::spec::{self, Failure};
use crate::sys::{self, PollFd, POLLERR, POLLHUP, POLLIN};
use crate::{metrics, mounts, netlink, process};
use std::time::{Duration, Instant};

const RUN_CONFIG: &str = "/inferno/run.json";
/// After the main process exits, how long output still held by its leftovers is read before reporting.
const PIPE_LINGER: Duration = Duration::from_millis(500);
const KILL_GRACE: Duration = Duration::from_secs(2);
/// The session channel's index in `Init::chans`.
const SESSION: usize = frame::CH_SESSION as usize - 1;

pub fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

fn console(msg: &str) {
    let mut line = String::with_capacity(msg.len() + 16);
    line.push_str("inferno-init: ");
    line.push_str(msg.trim_end());
    line.push('\n');
    sys::write_all(1, line.as_bytes());
}

struct Exit {
    code: i32,
    signal: Option<i32>,
    finished_ns: u64,
}

struct Init {
    cfg: RunConfig,
    logs: LogBuffer,
    /// Indexed by channel id - 1: logs, exit, control, metrics, session.
    chans: Vec<Channel>,
    /// Session 0 and the exec sessions (§10), over chans[SESSION].
    sessions: Sessions,
    /// chans[SESSION] was connected at the last look (its drop kills the execs).
    session_up: bool,
    sigfd: i32,
    main_pid: Option<i32>,
    pipes: [i32; 2],
    stop_signal: i32,
    started_ns: u64,
    exit: Option<Exit>,
    error: Option<String>,
    report: Option<String>,
    exit_acked: bool,
    oom_baseline: usize,
    next_metrics: Option<Instant>,
    root: Option<Root>,
}

/// Seconds since the kernel started (for the console's timeline).
fn uptime() -> String {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_default()
}

fn oom_kills() -> usize {
    sys::kernel_log().matches("Killed process").count()
}

pub fn pid1() -> ! {
    if std::process::id() != 1 {
        eprintln!("inferno-init: must run as PID 1 (the guest's init), not as process {}", std::process::id());
        std::process::exit(2);
    }
    // A bug in init must not end in "Attempted to kill init" with no word to the host: report it like any
    // other init failure (125) on the console, then reboot so the VMM exits.
    std::panic::set_hook(Box::new(|info| {
        let msg = format!("inferno-init internal error: {info}").replace('\n', " ");
        console(&msg);
        let report = obj(vec![
            ("code", num(125)),
            ("signal", Value::Null),
            ("oom", Value::Bool(false)),
            ("started_ns", num(now_ns())),
            ("finished_ns", num(now_ns())),
            ("error", string(msg)),
        ]);
        sys::write_all(1, format!("INFERNO-EXIT {}\n", report.to_json()).as_bytes());
        sys::do_sync();
        let _ = sys::do_reboot(sys::RB_AUTOBOOT);
    }));
    let early = rootfs::early_mounts();
    if let Ok(fd) = sys::do_open("/dev/console", sys::O_WRONLY | sys::O_NOCTTY, 0) {
        let _ = sys::do_dup2(fd, 1);
        let _ = sys::do_dup2(fd, 2);
        if fd > 2 {
            sys::do_close(fd);
        }
    }
    if let Ok(fd) = sys::do_open("/dev/null", sys::O_RDONLY, 0) {
        let _ = sys::do_dup2(fd, 0);
        if fd > 2 {
            sys::do_close(fd);
        }
    }
    // The OOM killer must never pick PID 1 (the kernel would panic); the workload gets 0 back (process.rs).
    let _ = std::fs::write("/proc/self/oom_score_adj", "-1000");
    // Ctrl-Alt-Del (Firecracker's SendCtrlAltDel) becomes SIGINT to PID 1 instead of an immediate reboot.
    let _ = sys::do_reboot(sys::RB_DISABLE_CAD);
    let set = sys::sigset(&[sys::SIGCHLD, sys::SIGINT, sys::SIGTERM]);
    let _ = sys::block_signals(&set);
    let sigfd = sys::make_signalfd(&set).unwrap_or(-1);

    let parsed = std::fs::read_to_string(RUN_CONFIG)
        .map_err(|e| format!("cannot read the run config {RUN_CONFIG}: {e}"))
        .and_then(|t| config::parse(&t).map_err(|e| format!("invalid run config {RUN_CONFIG}: {e}")));
    let cfg = match &parsed {
        Ok(c) => c.clone(),
        // Still talk to the host so that it learns why: the vm id is unknown, use what can be salvaged.
        Err(_) => RunConfig { drain_timeout_ms: 3000, ..RunConfig::default() },
    };
    let boot_id = sys::random_u64();
    let mut init = Init {
        logs: LogBuffer::new(cfg.log_mode, cfg.log_buffer_bytes),
        chans: Vec::new(),
        sessions: Sessions::new(cfg.process.stdin, cfg.process.tty),
        session_up: false,
        sigfd,
        main_pid: None,
        pipes: [-1, -1],
        stop_signal: sys::SIGTERM,
        started_ns: now_ns(),
        exit: None,
        error: None,
        report: None,
        exit_acked: false,
        oom_baseline: 0,
        next_metrics: None,
        root: None,
        cfg,
    };
    init.open_channels(boot_id);
    let result = early.and_then(|_| parsed.map(|_| ())).map_err(Failure::setup).and_then(|_| init.start());
    if let Err(f) = result {
        init.fail(f);
    } else {
        init.supervise();
    }
    init.shutdown()
}

impl Init {
    fn open_channels(&mut self, boot_id: u64) {
        let c = &self.cfg;
        let mut transport = c.transport;
        if transport == Transport::Auto || transport == Transport::VirtioSerial {
            // Ports appear shortly after the virtio console device is probed; wait briefly if one exists.
            let deadline = Instant::now() + Duration::from_secs(2);
            loop {
                let ports = channel::virtio_ports();
                let found = ports.iter().any(|(n, d)| n == PORT_NAMES[0] && std::path::Path::new(d).exists());
                if found {
                    transport = Transport::VirtioSerial;
                    break;
                }
                if Instant::now() >= deadline || (transport == Transport::Auto && !channel::has_virtio_console()) {
                    if transport == Transport::Auto {
                        transport = Transport::Vsock;
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let ports = channel::virtio_ports();
        let vsock_ports = [c.port_logs, c.port_exit, c.port_control, c.port_metrics, c.port_session];
        for (i, name) in PORT_NAMES.iter().enumerate() {
            let id = i as u8 + 1;
            let kind = match transport {
                Transport::VirtioSerial => match ports.iter().find(|(n, _)| n == name) {
                    Some((_, dev)) => match sys::do_open(dev, sys::O_RDWR | sys::O_NONBLOCK | sys::O_CLOEXEC, 0) {
                        Ok(fd) => Kind::Serial { fd },
                        Err(e) => {
                            console(&format!("cannot open the {name} port {dev}: {e}"));
                            Kind::Absent
                        }
                    },
                    None => {
                        if id == frame::CH_SESSION {
                            // an older host: the VM runs, without stdin, exec or cp
                            console(&format!("no virtio-serial port named {name}: no stdin, exec or cp in this VM"));
                        } else if id != frame::CH_METRICS || c.metrics_interval_secs > 0 {
                            console(&format!("no virtio-serial port named {name}"));
                        }
                        Kind::Absent
                    }
                },
                _ if id == frame::CH_CONTROL || id == frame::CH_SESSION => match sys::vsock_listen(vsock_ports[i]) {
                    Ok(fd) => Kind::VsockListen { listen_fd: fd, fd: -1 },
                    Err(e) => {
                        console(&format!("cannot listen on vsock port {}: {e}", vsock_ports[i]));
                        Kind::Absent
                    }
                },
                _ if id == frame::CH_METRICS && c.metrics_interval_secs == 0 => Kind::Absent,
                _ => Kind::VsockConnect {
                    port: vsock_ports[i],
                    fd: -1,
                    connecting: false,
                    retry_at: Instant::now(),
                    backoff: Duration::from_millis(50),
                },
            };
            self.chans.push(Channel::new(id, kind, boot_id, &c.vm_id));
        }
        let mode = if transport == Transport::VirtioSerial { "virtio-serial" } else { "vsock" };
        console(&format!("vm {} boot {boot_id:016x}: channels over {mode} (uptime {} s)", c.vm_id, uptime()));
    }

    /// Root, mounts, process. Any error here is init's own (125) or the exec's (126/127).
    fn start(&mut self) -> Result<(), Failure> {
        let mut note = |m: &str| console(m);
        self.root = Some(rootfs::build(&self.cfg, &mut note).map_err(Failure::setup)?);
        rootfs::setup_inside(&self.cfg, &mut note).map_err(Failure::setup)?;
        let volume_fds = mounts::mount_all(&self.cfg, &mut note).map_err(Failure::setup)?;
        if let Some(r) = self.root.as_mut() {
            r.volume_fds = volume_fds;
        }
        // before the workload, which may bind or connect at once; a failure is init's (125), like a mount's
        netlink::setup_guest(self.cfg.network.as_ref()).map_err(Failure::setup)?;
        if let Some(n) = &self.cfg.network {
            console(&format!("network: {} via {} (mtu {}, mac {})", n.address, n.gateway, n.mtu, n.mac));
        }
        let s = self.cfg.process.clone();
        self.stop_signal = s.stop_signal;
        let (user, env) = process::prepare(&s)?;
        if self.cfg.readonly {
            // last: the mounts' targets and the working directory had to be created first
            mounts::make_root_readonly().map_err(Failure::setup)?;
        }
        self.oom_baseline = oom_kills();
        if self.cfg.metrics_interval_secs > 0 {
            self.next_metrics = Some(Instant::now());
        }
        console(&format!("starting {:?} (uptime {} s)", s.argv[0], uptime()));
        self.started_ns = now_ns();
        let started = process::spawn(&s, &user, &env)?;
        self.main_pid = Some(started.pid);
        // with a terminal, its master is the one output stream (stdout) and stderr is -1
        self.pipes = [started.stdout, started.stderr];
        let mut out = Vec::new();
        self.sessions.main_started(started.stdin, started.tty, &mut out);
        self.send_session(out);
        Ok(())
    }

    fn fail(&mut self, f: Failure) {
        console(&format!("error: {}", f.message));
        self.logs.push_init(&format!("inferno-init: {}\n", f.message), now_ns());
        self.sessions.main_ended(&format!("the VM's main process did not start: {}", f.message));
        self.error = Some(f.message);
        self.exit = Some(Exit { code: f.code, signal: None, finished_ns: now_ns() });
    }

    fn supervise(&mut self) {
        // 1. until the main process exits
        while self.exit.is_none() {
            self.step(None);
        }
        self.sessions.main_ended("the VM's main process has exited");
        // 2. what it printed last (leftover processes may keep the pipes open: bounded)
        let linger = Instant::now() + PIPE_LINGER;
        while self.pipes.iter().any(|&p| p >= 0) && Instant::now() < linger {
            self.step(Some(linger));
        }
        self.logs.flush_drop_notice(now_ns());
    }

    fn report_json(&self) -> String {
        let e = self.exit.as_ref().expect("exit known");
        let oom = self.main_pid.is_some() && oom_kills() > self.oom_baseline;
        obj(vec![
            ("code", num(e.code)),
            ("signal", e.signal.map_or(Value::Null, num)),
            ("oom", Value::Bool(oom)),
            ("started_ns", num(self.started_ns)),
            ("finished_ns", num(e.finished_ns)),
            ("error", self.error.clone().map_or(Value::Null, string)),
        ])
        .to_json()
    }

    fn shutdown(mut self) -> ! {
        // 3. report the exit: console line, then the exit channel; wait for its ack and the logs' acks.
        let report = self.report_json();
        sys::write_all(1, format!("INFERNO-EXIT {report}\n").as_bytes());
        self.report = Some(report.clone());
        self.chans[1].send(&Message::Exit(report));
        let last = self.logs.last_seq();
        let deadline = Instant::now() + Duration::from_millis(self.cfg.drain_timeout_ms);
        while !(self.exit_acked && self.logs.acked_through(last)) && Instant::now() < deadline {
            self.step(Some(deadline));
        }
        if !(self.exit_acked && self.logs.acked_through(last)) {
            console(&format!(
                "drain timeout ({} ms): exit acknowledged: {}, logs acknowledged through seq {} of {}",
                self.cfg.drain_timeout_ms,
                self.exit_acked,
                if self.logs.acked_through(last) { last } else { 0 },
                last
            ));
        }
        // 4. the rest of the process tree: TERM, grace, KILL
        if sys::other_processes_exist() {
            let _ = sys::do_kill(-1, sys::SIGTERM);
            let grace = Instant::now() + KILL_GRACE;
            while sys::other_processes_exist() && Instant::now() < grace {
                self.reap();
                std::thread::sleep(Duration::from_millis(20));
            }
            if sys::other_processes_exist() {
                console("processes left after SIGTERM and the grace period: sending SIGKILL");
                let _ = sys::do_kill(-1, sys::SIGKILL);
                let end = Instant::now() + Duration::from_secs(1);
                while sys::other_processes_exist() && Instant::now() < end {
                    self.reap();
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            self.reap();
        }
        // the sessions whose process was reaped while the channel is up get their CLOSED (bounded)
        let mut out = Vec::new();
        self.sessions.finish(&mut out);
        self.send_session(out);
        let end = Instant::now() + Duration::from_millis(500);
        while self.chans[SESSION].connected && !self.chans[SESSION].out.is_empty() && Instant::now() < end {
            self.step(Some(end));
        }
        for c in &mut self.chans {
            c.finish();
        }
        rootfs::finish(self.root.as_ref(), &mut |m| console(m));
        let _ = sys::do_reboot(sys::RB_AUTOBOOT);
        // reboot(2) does not return; if it did, PID 1 must not exit (kernel panic): idle.
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }

    fn reap(&mut self) {
        let mut out = Vec::new();
        while let Some((pid, st)) = sys::wait_any_nohang() {
            if Some(pid) == self.main_pid && self.exit.is_none() {
                let (code, signal) = match sys::WaitStatus::from_raw(st) {
                    sys::WaitStatus::Exited(code) => (code, None),
                    sys::WaitStatus::Signaled(sig) => (128 + sig, Some(sig)),
                };
                self.exit = Some(Exit { code, signal, finished_ns: now_ns() });
            } else {
                self.sessions.on_reaped(pid, st, &mut out);
            }
        }
        self.send_session(out);
    }

    /// Queues session frames on the session channel (dropped while it is down: its execs are gone then).
    fn send_session(&mut self, out: Vec<Message>) {
        for m in out {
            self.chans[SESSION].send(&m);
        }
    }

    /// Notices the session channel going down, however it went (read, write or hang-up).
    fn sync_session_link(&mut self) {
        if self.session_up && !self.chans[SESSION].connected {
            self.session_up = false;
            self.sessions.on_disconnect();
        }
    }

    fn signal_main(&self, sig: i32) -> Result<(), String> {
        match self.main_pid {
            Some(pid) if self.exit.is_none() => sys::do_kill(pid, sig).map_err(|e| e.to_string()),
            _ => Err("no such process".into()),
        }
    }

    fn control(&mut self, text: &str) -> String {
        let result = json::parse(text).map_err(|e| format!("invalid control message: {e}")).and_then(|v| {
            match v.get("op").and_then(Value::as_str) {
                Some("stop") => self.signal_main(self.stop_signal),
                Some("signal") => {
                    let sig = match v.get("signal") {
                        Some(Value::Number(n)) => n.parse::<i32>().map_err(|_| format!("invalid signal {n}")),
                        Some(Value::String(s)) => spec::parse_signal(s),
                        _ => Err("signal is missing".into()),
                    }?;
                    if !(1..=64).contains(&sig) {
                        return Err(format!("invalid signal {sig}"));
                    }
                    self.signal_main(sig)
                }
                Some(op) => Err(format!("unknown op {:?}", op.chars().take(64).collect::<String>())),
                None => Err("op is missing".into()),
            }
        });
        match result {
            Ok(()) => obj(vec![("ok", Value::Bool(true))]).to_json(),
            Err(e) => obj(vec![("ok", Value::Bool(false)), ("error", string(e))]).to_json(),
        }
    }

    /// One round of the event loop: signals, the workload's pipes, the channels, timers.
    fn step(&mut self, until: Option<Instant>) {
        let now = Instant::now();
        let mut timeout = Duration::from_secs(1);
        if let Some(u) = until {
            timeout = timeout.min(u.saturating_duration_since(now));
        }
        for c in &self.chans {
            if let Some(t) = c.timer(now) {
                timeout = timeout.min(t);
            }
        }
        if let Some(m) = self.next_metrics {
            timeout = timeout.min(m.saturating_duration_since(now));
        }
        if let Some(t) = self.sessions.timer(now) {
            timeout = timeout.min(t);
        }
        let mut fds: Vec<PollFd> = Vec::with_capacity(8);
        let mut owners: Vec<usize> = Vec::with_capacity(8); // 0 signals, 1-2 pipes, 10+i channel i, 100+k session fd k
        if self.sigfd >= 0 {
            fds.push(PollFd { fd: self.sigfd, events: POLLIN, revents: 0 });
            owners.push(0);
        }
        let budget = self.logs.read_budget();
        for (i, &p) in self.pipes.iter().enumerate() {
            if p >= 0 && budget > 0 {
                fds.push(PollFd { fd: p, events: POLLIN, revents: 0 });
                owners.push(1 + i);
            }
        }
        for (i, c) in self.chans.iter().enumerate() {
            let want_write = !c.out.is_empty() || (i == 0 && self.logs.unsent().is_some());
            if let Some(p) = c.poll_fd(want_write) {
                fds.push(p);
                owners.push(10 + i);
            }
        }
        // the sessions' fds: owners 100 + their index in `tokens`
        let mut tokens: Vec<Token> = Vec::new();
        self.sessions.poll_fds(&mut fds, &mut tokens);
        owners.extend((0..tokens.len()).map(|k| 100 + k));
        if self.sigfd < 0 {
            // without a signalfd, poll for children on a short timer
            timeout = timeout.min(Duration::from_millis(50));
        }
        match sys::do_poll(&mut fds, timeout.as_millis() as i32) {
            Ok(_) => {}
            Err(_) => return,
        }
        if self.sigfd < 0 {
            self.reap();
        }
        for (k, p) in fds.iter().enumerate() {
            if p.revents == 0 {
                continue;
            }
            match owners[k] {
                0 => {
                    while let Some(sig) = sys::read_signal(self.sigfd) {
                        match sig as i32 {
                            sys::SIGCHLD => self.reap(),
                            s @ (sys::SIGINT | sys::SIGTERM) => {
                                console(&format!("received signal {s}: sending the stop signal to the workload"));
                                let _ = self.signal_main(self.stop_signal);
                            }
                            _ => {}
                        }
                    }
                    self.reap();
                }
                o @ (1 | 2) => self.read_pipe(o - 1, p.revents),
                o @ 10..=99 => self.channel_event(o - 10, p.revents),
                o => {
                    let mut out = Vec::new();
                    self.sessions.on_ready(tokens[o - 100], &mut out);
                    self.send_session(out);
                }
            }
        }
        let mut out = Vec::new();
        self.sessions.tick(Instant::now(), &mut out);
        self.send_session(out);
        let now = Instant::now();
        for i in 0..self.chans.len() {
            let ev = self.chans[i].tick(now);
            if ev.connected_now {
                self.on_connected(i);
            }
        }
        if let Some(m) = self.next_metrics {
            if now >= m {
                let interval = Duration::from_secs(self.cfg.metrics_interval_secs);
                self.next_metrics = Some(m.max(now - interval) + interval);
                let ch = &mut self.chans[frame::CH_METRICS as usize - 1];
                if ch.connected && ch.out.is_empty() {
                    ch.send(&Message::Metrics(metrics::collect(now_ns(), self.logs.total_dropped).to_json()));
                }
            }
        }
        self.write_channels();
        self.sync_session_link();
    }

    fn read_pipe(&mut self, i: usize, revents: i16) {
        let fd = self.pipes[i];
        let budget = self.logs.read_budget();
        if revents & POLLIN != 0 && budget > 0 {
            let mut buf = Vec::with_capacity(frame::LOG_PREFIX + budget);
            buf.resize(frame::LOG_PREFIX, 0);
            match sys::read_append(fd, &mut buf, budget) {
                Ok(0) => self.close_pipe(i),
                Ok(_) => {
                    self.logs.push_buf(i as u8 + 1, buf, now_ns());
                }
                Err(e) if matches!(e.raw_os_error(), Some(sys::EAGAIN) | Some(sys::EINTR)) => {}
                Err(_) => self.close_pipe(i),
            }
        } else if revents & (POLLHUP | POLLERR) != 0 {
            self.close_pipe(i);
        }
    }

    fn close_pipe(&mut self, i: usize) {
        sys::do_close(self.pipes[i]);
        self.pipes[i] = -1;
    }

    fn on_connected(&mut self, i: usize) {
        match i {
            0 => self.logs.rewind(),
            SESSION => {
                self.session_up = true;
                self.sessions.on_connect();
            }
            1 => {
                if let (Some(r), false) = (&self.report, self.exit_acked) {
                    let m = Message::Exit(r.clone());
                    self.chans[1].send(&m);
                }
            }
            _ => {}
        }
    }

    fn channel_event(&mut self, i: usize, revents: i16) {
        let ev = self.chans[i].handle(revents);
        if ev.connected_now {
            self.on_connected(i);
        }
        let mut out = Vec::new();
        for m in ev.frames {
            match (i, m) {
                (SESSION, m) => self.sessions.on_frame(m, &mut out),
                (0, Message::Ack { seq }) => self.logs.ack(seq),
                (1, Message::ExitAck) => self.exit_acked = self.report.is_some(),
                (2, Message::Control(text)) => {
                    let reply = self.control(&text);
                    self.chans[2].send(&Message::ControlReply(reply));
                }
                _ => {}
            }
        }
        self.send_session(out);
        self.sync_session_link();
    }

    fn write_channels(&mut self) {
        for i in 0..self.chans.len() {
            let ch = &mut self.chans[i];
            if !ch.connected || !ch.flush_out() {
                continue;
            }
            if i == 0 {
                while let Some(chunk) = self.logs.unsent() {
                    let len = chunk.len();
                    let n = self.chans[0].write_raw(chunk);
                    if n == 0 {
                        break;
                    }
                    self.logs.advance(n);
                    // a short write (virtio-serial takes at most 32 KiB per write) is not "full": go on
                    let _ = len;
                }
            }
        }
    }
}
