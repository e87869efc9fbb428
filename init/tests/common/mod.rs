//! Host side of the integration tests: boots the project's kernel + init + a real ext4 image under QEMU microvm
//! (TCG) and speaks the protocol on the channels' unix sockets, as kiln does.
#![allow(dead_code)]

use inferno_init::frame::{Decoder, Message};
use inferno_init::json::{self, Value};
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// QEMU tests run one at a time (2 cores shared; TCG is CPU-bound).
static VM_LOCK: Mutex<()> = Mutex::new(());

pub fn vm_lock() -> MutexGuard<'static, ()> {
    VM_LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn work_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn kernel() -> PathBuf {
    let k = repo_root().join("build/kernel/vmlinux");
    if !k.exists() {
        let script = repo_root().join("kernel/build.sh");
        let ok = Command::new(&script).status().map(|s| s.success()).unwrap_or(false);
        assert!(
            ok && k.exists(),
            "the guest kernel {} is missing and {} could not build it",
            k.display(),
            script.display()
        );
    }
    k
}

pub fn qemu() -> &'static str {
    let ok = Command::new("qemu-system-x86_64").arg("--version").stdout(Stdio::null()).status().is_ok();
    assert!(ok, "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86): the VM tests need it");
    "qemu-system-x86_64"
}

/// The init binary cargo built for this test run; it must be static (the initramfs has no libc).
pub fn init_binary() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_BIN_EXE_init"));
    let elf = std::fs::read(&p).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    let phoff = u64::from_le_bytes(elf[32..40].try_into().unwrap()) as usize;
    let phentsize = u16::from_le_bytes(elf[54..56].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(elf[56..58].try_into().unwrap()) as usize;
    for i in 0..phnum {
        let t = u32::from_le_bytes(elf[phoff + i * phentsize..][..4].try_into().unwrap());
        assert_ne!(t, 3, "{} has a PT_INTERP (dynamically linked): build with +crt-static", p.display());
    }
    p
}

// ---------- images ----------

pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
app:x:1000:1000:App User:/home/app:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
pub const GROUP: &str = "root:x:0:\ntty:x:5:\nstaff:x:50:app\napp:x:1000:\nnogroup:x:65534:\n";

/// A root filesystem directory turned into an ext4 file with `mke2fs -d` (no mounts needed).
pub struct ImageBuilder {
    dir: PathBuf,
}

impl ImageBuilder {
    /// busybox-static + its applet links + /etc/passwd, /etc/group.
    pub fn busybox(work: &Path) -> Self {
        let dir = work.join("rootfs");
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        let bb = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("busybox is not installed (apt-get install busybox-static)");
        std::fs::copy(bb, dir.join("bin/busybox")).unwrap();
        let list = run(Command::new(bb).arg("--list"));
        for applet in list.lines().filter(|a| !a.is_empty() && *a != "busybox") {
            let _ = std::os::unix::fs::symlink("busybox", dir.join("bin").join(applet));
        }
        for d in ["etc", "root", "home/app", "dev", "proc", "sys", "usr/bin"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let b = ImageBuilder { dir };
        b.file("etc/passwd", PASSWD, 0o644).file("etc/group", GROUP, 0o644).file("etc/motd", "welcome\n", 0o644)
    }

    /// The directory the image is made of (to add files with owners and times before `build`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn from_dir(dir: &Path) -> Self {
        ImageBuilder { dir: dir.to_path_buf() }
    }

    pub fn file(self, path: &str, content: &str, mode: u32) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        self
    }

    pub fn build(&self, out: &Path, size: &str) -> PathBuf {
        let _ = std::fs::remove_file(out);
        run(Command::new("mke2fs").args(["-q", "-F", "-t", "ext4", "-d"]).arg(&self.dir).arg(out).arg(size));
        out.to_path_buf()
    }
}

pub fn empty_ext4(out: &Path, size: &str) -> PathBuf {
    let _ = std::fs::remove_file(out);
    run(Command::new("mke2fs").args(["-q", "-F", "-t", "ext4"]).arg(out).arg(size));
    out.to_path_buf()
}

pub fn sha256(p: &Path) -> String {
    run(Command::new("sha256sum").arg(p)).split_whitespace().next().unwrap().to_string()
}

/// Reads a file out of an ext4 image without mounting it.
pub fn debugfs_cat(img: &Path, path: &str) -> String {
    run(Command::new("debugfs").args(["-R", &format!("cat {path}")]).arg(img))
}

pub fn debugfs_stat(img: &Path, path: &str) -> String {
    let out = Command::new("debugfs").args(["-R", &format!("stat {path}")]).arg(img).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

// ---------- initramfs ----------

fn cpio_entry(out: &mut Vec<u8>, ino: u32, name: &str, mode: u32, data: &[u8], rdev: (u32, u32)) {
    let namez = name.len() + 1;
    let hdr = format!(
        "070701{ino:08X}{mode:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{namez:08X}{:08X}",
        0,
        0,
        1,
        0,
        data.len(),
        0,
        0,
        rdev.0,
        rdev.1,
        0
    );
    out.extend_from_slice(hdr.as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    out.extend_from_slice(data);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// The per-VM initramfs: /inferno/init, /inferno/run.json and /dev/console (newc, written directly so no
/// mknod or root is needed).
pub fn initramfs(out: &Path, run_json: &str) -> PathBuf {
    let init = std::fs::read(init_binary()).unwrap();
    let mut c = Vec::new();
    cpio_entry(&mut c, 1, "dev", 0o040755, b"", (0, 0));
    cpio_entry(&mut c, 2, "dev/console", 0o020600, b"", (5, 1));
    cpio_entry(&mut c, 3, "inferno", 0o040755, b"", (0, 0));
    cpio_entry(&mut c, 4, "inferno/init", 0o100755, &init, (0, 0));
    cpio_entry(&mut c, 5, "inferno/run.json", 0o100644, run_json.as_bytes(), (0, 0));
    cpio_entry(&mut c, 0, "TRAILER!!!", 0, b"", (0, 0));
    std::fs::write(out, c).unwrap();
    out.to_path_buf()
}

// ---------- run config ----------

/// A run config (version 2) with the protocol's example defaults; tests override fields. The process is given
/// resolved, as the host's Docker merge (kiln's DockerRun) hands it over: HOSTNAME and PATH in env.
pub struct RunConfig {
    pub fields: BTreeMap<String, Value>,
    pub process: BTreeMap<String, Value>,
}

pub fn strs(v: &[&str]) -> Value {
    Value::Array(v.iter().map(|s| json::string(*s)).collect())
}

pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl RunConfig {
    pub fn new(argv: &[&str]) -> Self {
        let mut r = RunConfig { fields: BTreeMap::new(), process: BTreeMap::new() };
        r.process.insert("argv".into(), strs(argv));
        r.process.insert("env".into(), strs(&["HOSTNAME=testvm", DEFAULT_PATH]));
        r = r
            .set("version", json::num(2))
            .set("vm_id", json::string("9f86d081884c7d65"))
            .set("hostname", json::string("testvm"));
        r.log("block", 1048576, 5000)
    }
    /// The run config's `log` object (PROTOCOL.md §5).
    pub fn log(self, mode: &str, buffer_bytes: u64, drain_timeout_ms: u64) -> Self {
        self.set(
            "log",
            json::obj(vec![
                ("mode", json::string(mode)),
                ("buffer_bytes", json::num(buffer_bytes)),
                ("drain_timeout_ms", json::num(drain_timeout_ms)),
            ]),
        )
    }
    /// `sh -c SCRIPT` as the process.
    pub fn sh(script: &str) -> Self {
        Self::new(&["/bin/sh", "-c", script])
    }
    pub fn set(mut self, k: &str, v: Value) -> Self {
        self.fields.insert(k.into(), v);
        self
    }
    /// A field of `process` (argv, env, workdir, user, stop_signal).
    pub fn process(mut self, k: &str, v: Value) -> Self {
        self.process.insert(k.into(), v);
        self
    }
    pub fn to_json(&self) -> String {
        let mut top: Vec<(String, Value)> = self.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        top.push(("process".into(), Value::Object(self.process.iter().map(|(k, v)| (k.clone(), v.clone())).collect())));
        Value::Object(top).to_json()
    }
}

// ---------- the host side of the channels ----------

#[derive(Debug, Clone)]
pub struct LogRecord {
    pub seq: u64,
    pub time_ns: u64,
    pub stream: u8,
    pub data: Vec<u8>,
    pub received_at: Instant,
}

#[derive(Default)]
pub struct HostState {
    pub logs: Vec<LogRecord>,
    pub last_seq: u64,
    pub duplicates: u64,
    pub gaps: Vec<String>,
    pub hellos: Vec<(u8, u64, String)>,
    pub log_connections: u32,
    pub exit_reports: Vec<String>,
    pub replies: Vec<String>,
    pub metrics: Vec<String>,
    /// The logs listener is gone (simulated host crash) while set.
    pub logs_offline: bool,
    /// No listener on any channel while set (the whole host side is down).
    pub all_offline: bool,
    /// No listener on the exit channel while set.
    pub exit_offline: bool,
    pub stop: bool,
    /// The benchmark's raw ports: (arrival, bytes) of every read.
    pub raw: Vec<Vec<(Instant, usize)>>,
    /// Every frame but HELLO that arrived on the session channel (§10), in order.
    pub session: Vec<Message>,
    /// Sessions whose output the host does not grant credit for (a stuck reader); the others get a WINDOW
    /// for every DATA at once.
    pub session_hold: HashSet<u32>,
    /// No listener on the session channel while set.
    pub session_offline: bool,
    /// stdin bytes sent per session by [`Host::send_stdin`] (for its credit).
    pub stdin_sent: BTreeMap<u32, u64>,
}

impl HostState {
    pub fn stream(&self, s: u8) -> Vec<u8> {
        self.logs.iter().filter(|r| r.stream == s).flat_map(|r| r.data.clone()).collect()
    }
    pub fn stream_text(&self, s: u8) -> String {
        String::from_utf8_lossy(&self.stream(s)).into_owned()
    }
    /// The DATA bytes of one session's stream.
    pub fn session_data(&self, id: u32, stream: u8) -> Vec<u8> {
        self.session
            .iter()
            .filter_map(|m| match m {
                Message::Data { session, stream: s, data } if *session == id && *s == stream => Some(data.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }
    pub fn session_text(&self, id: u32, stream: u8) -> String {
        String::from_utf8_lossy(&self.session_data(id, stream)).into_owned()
    }
    /// What the host may still send as stdin of `id`: the initial credit plus the guest's WINDOWs minus what
    /// was sent (§10).
    pub fn stdin_credit(&self, id: u32) -> u64 {
        let granted: u64 = self
            .session
            .iter()
            .map(|m| match m {
                Message::Window { session, stream: 0, bytes } if *session == id => *bytes as u64,
                _ => 0,
            })
            .sum();
        262_144 + granted - self.stdin_sent.get(&id).copied().unwrap_or(0)
    }
    /// The CLOSED report of a session, parsed.
    pub fn closed(&self, id: u32) -> Option<Value> {
        self.session.iter().find_map(|m| match m {
            Message::Closed { session, json } if *session == id => Some(json::parse(json).unwrap()),
            _ => None,
        })
    }
    /// The kinds of a session's frames in order ("STARTED", "DATA1", "EOF2", "CLOSED", ...), DATA runs merged.
    pub fn session_order(&self, id: u32) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for m in &self.session {
            let k = match m {
                Message::Started { session, .. } if *session == id => "STARTED".to_string(),
                Message::Data { session, stream, .. } if *session == id => format!("DATA{stream}"),
                Message::Eof { session, stream } if *session == id => format!("EOF{stream}"),
                Message::Closed { session, .. } if *session == id => "CLOSED".to_string(),
                _ => continue,
            };
            if v.last() != Some(&k) || !k.starts_with("DATA") {
                v.push(k);
            }
        }
        v
    }
}

pub struct Host {
    pub state: Mutex<HostState>,
    pub changed: Condvar,
    control: Mutex<Option<UnixStream>>,
    session: Mutex<Option<UnixStream>>,
}

impl Host {
    pub fn lock(&self) -> MutexGuard<'_, HostState> {
        self.state.lock().unwrap()
    }
    /// Waits until `f` holds (checked on every change), or panics after `timeout` with `what`.
    pub fn wait_for(&self, timeout: Duration, what: &str, f: impl Fn(&HostState) -> bool) {
        let deadline = Instant::now() + timeout;
        let mut g = self.lock();
        while !f(&g) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out after {timeout:?} waiting for {what}");
            g = self.changed.wait_timeout(g, left.min(Duration::from_millis(100))).unwrap().0;
        }
    }
    pub fn send_control(&self, json: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.control.lock().unwrap().as_mut() {
                s.write_all(&Message::Control(json.into()).encode()).unwrap();
                return;
            }
            assert!(Instant::now() < deadline, "the control channel never connected");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// Sends a frame on the session channel (waits for its connection).
    pub fn send_session(&self, m: &Message) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = self.session.lock().unwrap().as_mut() {
                s.write_all(&m.encode()).unwrap();
                return;
            }
            assert!(Instant::now() < deadline, "the session channel never connected");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// Sends `bytes` as stdin DATA of session `id`, never beyond the credit the guest granted (§10).
    pub fn send_stdin(&self, id: u32, bytes: &[u8]) {
        for chunk in bytes.chunks(65_531) {
            self.wait_for(Duration::from_secs(120), "stdin credit", |s| s.stdin_credit(id) >= chunk.len() as u64);
            self.send_session(&Message::Data { session: id, stream: 0, data: chunk.to_vec() });
            *self.lock().stdin_sent.entry(id).or_default() += chunk.len() as u64;
        }
    }
    /// Opens session `id` with the OPEN JSON and waits for its CLOSED (the whole session, §10).
    pub fn run_session(&self, id: u32, json: &str, timeout: Duration) -> Value {
        self.send_session(&Message::Open { session: id, json: json.into() });
        self.wait_closed(id, timeout)
    }
    pub fn wait_closed(&self, id: u32, timeout: Duration) -> Value {
        self.wait_for(timeout, &format!("CLOSED of session {id}"), |s| s.closed(id).is_some());
        self.lock().closed(id).unwrap()
    }
    fn notify(&self) {
        self.changed.notify_all();
    }
}

fn listen(path: &Path) -> UnixListener {
    let _ = std::fs::remove_file(path);
    let l = UnixListener::bind(path).unwrap();
    l.set_nonblocking(true).unwrap();
    l
}

/// Accepts QEMU's connection for one channel (again after each disconnect) and handles its frames.
fn serve(host: Arc<Host>, path: PathBuf, channel: u8) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut listener: Option<UnixListener> = None;
        loop {
            if host.lock().stop {
                return;
            }
            let offline = {
                let g = host.lock();
                g.all_offline
                    || (channel == 1 && g.logs_offline)
                    || (channel == 2 && g.exit_offline)
                    || (channel == 5 && g.session_offline)
            };
            if offline {
                if listener.take().is_some() {
                    let _ = std::fs::remove_file(&path);
                }
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            let l = listener.get_or_insert_with(|| listen(&path));
            let stream = match l.accept() {
                Ok((s, _)) => s,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            stream.set_nonblocking(false).unwrap();
            stream.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            if channel == 1 {
                host.lock().log_connections += 1;
            }
            if channel == 3 {
                *host.control.lock().unwrap() = Some(stream.try_clone().unwrap());
            }
            if channel == 5 {
                *host.session.lock().unwrap() = Some(stream.try_clone().unwrap());
            }
            let mut s = stream;
            let mut dec = Decoder::new();
            let mut buf = vec![0u8; 65536];
            loop {
                {
                    let g = host.lock();
                    if g.stop
                        || g.all_offline
                        || (channel == 1 && g.logs_offline)
                        || (channel == 2 && g.exit_offline)
                        || (channel == 5 && g.session_offline)
                    {
                        break;
                    }
                }
                match s.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => dec.push(&buf[..n]),
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                        continue
                    }
                    Err(_) => break,
                }
                let mut acks = Vec::new();
                {
                    let mut g = host.lock();
                    while let Some(f) = dec.next_frame() {
                        match Message::decode(&f) {
                            Some(Message::Hello { channel: c, boot_id, vm_id }) => g.hellos.push((c, boot_id, vm_id)),
                            Some(Message::Log { seq, time_ns, stream, data }) if channel == 1 => {
                                if seq <= g.last_seq {
                                    g.duplicates += 1;
                                } else {
                                    if seq != g.last_seq + 1 {
                                        let m = format!("gap: got seq {seq} after {}", g.last_seq);
                                        g.gaps.push(m);
                                    }
                                    g.last_seq = seq;
                                    g.logs.push(LogRecord { seq, time_ns, stream, data, received_at: Instant::now() });
                                }
                                acks.push(Message::Ack { seq: g.last_seq });
                            }
                            Some(Message::Exit(j)) if channel == 2 => {
                                g.exit_reports.push(j);
                                acks.push(Message::ExitAck);
                            }
                            Some(Message::ControlReply(j)) => g.replies.push(j),
                            Some(m) if channel == 5 => {
                                // the reader takes every byte at once: credit back for each DATA, unless held
                                if let Message::Data { session, stream, data } = &m {
                                    if !g.session_hold.contains(session) {
                                        let bytes = data.len() as u32;
                                        acks.push(Message::Window { session: *session, stream: *stream, bytes });
                                    }
                                }
                                g.session.push(m);
                            }
                            Some(Message::Metrics(j)) => g.metrics.push(j),
                            _ => {}
                        }
                    }
                }
                host.notify();
                // Cumulative: one ACK for the batch is enough.
                if let Some(last) = acks.iter().rev().find(|m| matches!(m, Message::Ack { .. })) {
                    let _ = s.write_all(&last.encode());
                }
                if acks.iter().any(|m| matches!(m, Message::ExitAck)) {
                    let _ = s.write_all(&Message::ExitAck.encode());
                }
                for w in acks.iter().filter(|m| matches!(m, Message::Window { .. })) {
                    let _ = s.write_all(&w.encode());
                }
            }
            if channel == 3 {
                *host.control.lock().unwrap() = None;
            }
            if channel == 5 {
                *host.session.lock().unwrap() = None;
            }
            // Dropping the stream (and, when offline, the listener) is the host going away.
        }
    })
}

pub struct VmOptions {
    pub run_json: String,
    pub image: PathBuf,
    pub writable: Option<PathBuf>,
    pub memory_mb: u32,
    /// The logs listener is absent when the VM starts (the host is "down").
    pub logs_offline: bool,
    /// No host listens on any channel (kiln is down for the whole run).
    pub host_down: bool,
    /// Adds plain virtio-serial ports `dev.inferno.raw1`.. whose bytes are only counted (benchmark baselines).
    pub raw_ports: usize,
    /// More QEMU arguments (e.g. a `-netdev tap` + `virtio-net-device`).
    pub extra_args: Vec<String>,
    /// Volumes: more disks after the image and the writable disk (raw files; `true` attaches one read-only), in
    /// order, so the guest sees them as the next /dev/vdX.
    pub drives: Vec<(PathBuf, bool)>,
}

impl VmOptions {
    /// What most tests boot: 256 MiB, every host channel up, no raw ports.
    pub fn new(run_json: String, image: PathBuf, writable: Option<PathBuf>) -> Self {
        VmOptions {
            run_json,
            image,
            writable,
            memory_mb: 256,
            logs_offline: false,
            host_down: false,
            raw_ports: 0,
            extra_args: Vec::new(),
            drives: Vec::new(),
        }
    }
}

pub struct Vm {
    pub dir: PathBuf,
    pub host: Arc<Host>,
    child: Child,
    threads: Vec<JoinHandle<()>>,
    pub console_path: PathBuf,
    pub started: Instant,
}

pub struct Outcome {
    pub elapsed: Duration,
    pub console: String,
    pub exit: Value,
}

impl Vm {
    pub fn start(dir: &Path, o: VmOptions) -> Vm {
        let qemu = qemu();
        let kernel = kernel();
        let initrd = initramfs(&dir.join("initramfs.cpio"), &o.run_json);
        let state = HostState { logs_offline: o.logs_offline, all_offline: o.host_down, ..HostState::default() };
        let host = Arc::new(Host {
            state: Mutex::new(state),
            changed: Condvar::new(),
            control: Mutex::new(None),
            session: Mutex::new(None),
        });
        let names = ["logs", "exit", "control", "metrics", "session"];
        let mut threads = Vec::new();
        let mut args: Vec<String> = vec![];
        for (i, n) in names.iter().enumerate() {
            let sock = dir.join(format!("{n}.sock"));
            threads.push(serve(host.clone(), sock.clone(), i as u8 + 1));
        }
        host.lock().raw = vec![Vec::new(); o.raw_ports];
        for k in 0..o.raw_ports {
            let sock = dir.join(format!("raw{}.sock", k + 1));
            let l = listen(&sock);
            let h = host.clone();
            threads.push(std::thread::spawn(move || {
                let mut s = loop {
                    if h.lock().stop {
                        return;
                    }
                    match l.accept() {
                        Ok((s, _)) => break s,
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                };
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) => return,
                        Ok(n) => h.lock().raw[k].push((Instant::now(), n)),
                        Err(_) => {
                            if h.lock().stop {
                                return;
                            }
                        }
                    }
                }
            }));
            args.push("-chardev".into());
            args.push(format!("socket,id=raw{},path={},server=off,reconnect=1", k + 1, sock.display()));
            args.push("-device".into());
            args.push(format!("virtserialport,chardev=raw{},name=dev.inferno.raw{}", k + 1, k + 1));
        }
        std::thread::sleep(Duration::from_millis(50));
        let console_path = dir.join("console.log");
        let mut cmd = Command::new(qemu);
        cmd.args(["-M", "microvm,acpi=off,x-option-roms=off", "-accel", "tcg", "-cpu", "max", "-smp", "1"])
            .args(["-m", &o.memory_mb.to_string(), "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"])
            .arg("-kernel")
            .arg(&kernel)
            .arg("-initrd")
            .arg(&initrd)
            // no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can fail and panic
            // ("IO-APIC + timer doesn't work!"); seen on this machine with a load average over 10.
            .args(["-append", "console=ttyS0 reboot=t panic=-1 quiet no_timer_check rdinit=/inferno/init"])
            .arg("-serial")
            .arg(format!("file:{}", console_path.display()))
            .arg("-drive")
            .arg(format!("id=image,file={},format=raw,if=none,readonly=on", o.image.display()));
        cmd.args(["-device", "virtio-blk-device,drive=image"]);
        if let Some(w) = &o.writable {
            cmd.arg("-drive").arg(format!("id=rw,file={},format=raw,if=none", w.display()));
            cmd.args(["-device", "virtio-blk-device,drive=rw"]);
        }
        for (i, (file, ro)) in o.drives.iter().enumerate() {
            let ro = if *ro { ",readonly=on" } else { "" };
            cmd.arg("-drive").arg(format!("id=vol{i},file={},format=raw,if=none{ro}", file.display()));
            cmd.args(["-device", &format!("virtio-blk-device,drive=vol{i}")]);
        }
        cmd.args(["-device", "virtio-serial-device"]);
        for n in names {
            args.push("-chardev".into());
            args.push(format!("socket,id={n},path={},server=off,reconnect=1", dir.join(format!("{n}.sock")).display()));
            args.push("-device".into());
            args.push(format!("virtserialport,chardev={n},name=dev.inferno.{n}"));
        }
        cmd.args(&args).args(&o.extra_args);
        cmd.stdin(Stdio::null()).stdout(Stdio::from(std::fs::File::create(dir.join("qemu.out")).unwrap()));
        cmd.stderr(Stdio::from(std::fs::File::create(dir.join("qemu.err")).unwrap()));
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {qemu}: {e}"));
        Vm { dir: dir.to_path_buf(), host, child, threads, console_path, started: Instant::now() }
    }

    pub fn console(&self) -> String {
        std::fs::read_to_string(&self.console_path).unwrap_or_default()
    }

    /// Waits for QEMU to exit by itself (the guest rebooted); returns the elapsed time and the console.
    pub fn wait_poweroff(&mut self, timeout: Duration) -> (Duration, String) {
        let deadline = self.started + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                let elapsed = self.started.elapsed();
                let console = self.console();
                let qerr = std::fs::read_to_string(self.dir.join("qemu.err")).unwrap_or_default();
                assert!(st.success(), "QEMU failed ({st}):\n{qerr}\nconsole:\n{console}");
                self.host.lock().stop = true;
                for t in self.threads.drain(..) {
                    let _ = t.join();
                }
                return (elapsed, console);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the VM did not power off within {timeout:?}; console:\n{}", self.console());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the power-off and the exit report (EXIT frame).
    pub fn wait(mut self, timeout: Duration) -> Outcome {
        let (elapsed, console) = self.wait_poweroff(timeout);
        let exit = {
            let g = self.host.lock();
            let r =
                g.exit_reports.last().cloned().unwrap_or_else(|| panic!("no EXIT frame arrived; console:\n{console}"));
            json::parse(&r).unwrap()
        };
        Outcome { elapsed, console, exit }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Ok(mut g) = self.host.state.lock() {
            g.stop = true;
        }
    }
}

impl Outcome {
    pub fn code(&self) -> i64 {
        self.exit.get("code").and_then(Value::as_i64).expect("exit report has a code")
    }
    /// The `INFERNO-EXIT {json}` console line, parsed.
    pub fn console_report(&self) -> Value {
        let line = self
            .console
            .lines()
            .find_map(|l| l.trim_end_matches('\r').strip_prefix("INFERNO-EXIT "))
            .unwrap_or_else(|| panic!("no INFERNO-EXIT line on the console:\n{}", self.console));
        json::parse(line).unwrap()
    }
}

/// Boots a busybox image with `run_json` and an empty writable disk; returns the outcome and the host state.
pub fn boot(name: &str, cfg: &RunConfig) -> (Outcome, Arc<Host>, PathBuf) {
    let dir = work_dir(name);
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let vm = Vm::start(&dir, VmOptions::new(cfg.to_json(), image, Some(rw)));
    let host = vm.host.clone();
    let out = vm.wait(Duration::from_secs(60));
    (out, host, dir)
}
