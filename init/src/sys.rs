//! Everything `unsafe` in init, and the raw constants it needs: the few glibc functions beyond std, declared by
//! hand (no crates.io), with thin safe wrappers; and the CRC's CPU intrinsics. Every `unsafe` block says why it
//! is sound in a `// SAFETY:` line.
#![allow(non_camel_case_types)]

use std::ffi::{CStr, CString};
use std::io;

pub type c_int = i32;
pub type pid_t = i32;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct PollFd {
    pub fd: c_int,
    pub events: i16,
    pub revents: i16,
}

/// glibc's sigset_t is 1024 bits.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SigSet([u64; 16]);

#[repr(C)]
pub struct SockaddrVm {
    pub family: u16,
    pub reserved1: u16,
    pub port: u32,
    pub cid: u32,
    pub zero: [u8; 4],
}

#[repr(C)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

#[repr(C)]
pub struct IfReq {
    pub name: [u8; 16],
    pub flags: i16,
    pub pad: [u8; 22],
}

extern "C" {
    fn mount(src: *const i8, target: *const i8, fstype: *const i8, flags: u64, data: *const u8) -> c_int;
    fn umount2(target: *const i8, flags: c_int) -> c_int;
    fn reboot(cmd: c_int) -> c_int;
    fn chroot(path: *const i8) -> c_int;
    fn sethostname(name: *const u8, len: usize) -> c_int;
    fn setgroups(n: usize, list: *const u32) -> c_int;
    fn setresgid(r: u32, e: u32, s: u32) -> c_int;
    fn setresuid(r: u32, e: u32, s: u32) -> c_int;
    fn fork() -> pid_t;
    fn execve(path: *const i8, argv: *const *const i8, envp: *const *const i8) -> c_int;
    fn waitpid(pid: pid_t, status: *mut c_int, options: c_int) -> pid_t;
    fn kill(pid: pid_t, sig: c_int) -> c_int;
    fn pipe2(fds: *mut c_int, flags: c_int) -> c_int;
    fn dup2(old: c_int, new: c_int) -> c_int;
    fn close(fd: c_int) -> c_int;
    fn read(fd: c_int, buf: *mut u8, n: usize) -> isize;
    fn write(fd: c_int, buf: *const u8, n: usize) -> isize;
    fn open(path: *const i8, flags: c_int, mode: u32) -> c_int;
    fn signalfd(fd: c_int, mask: *const SigSet, flags: c_int) -> c_int;
    fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    fn signal(sig: c_int, handler: usize) -> usize;
    fn poll(fds: *mut PollFd, n: u64, timeout: c_int) -> c_int;
    fn socket(domain: c_int, ty: c_int, proto: c_int) -> c_int;
    fn connect(fd: c_int, addr: *const SockaddrVm, len: u32) -> c_int;
    fn bind(fd: c_int, addr: *const SockaddrVm, len: u32) -> c_int;
    fn listen(fd: c_int, backlog: c_int) -> c_int;
    fn accept4(fd: c_int, addr: *mut u8, len: *mut u32, flags: c_int) -> c_int;
    fn getsockopt(fd: c_int, level: c_int, name: c_int, val: *mut c_int, len: *mut u32) -> c_int;
    fn shutdown(fd: c_int, how: c_int) -> c_int;
    fn setrlimit(res: c_int, lim: *const Rlimit) -> c_int;
    fn setsid() -> pid_t;
    fn sync();
    fn ioctl(fd: c_int, req: u64, arg: *mut IfReq) -> c_int;
    fn getrandom(buf: *mut u8, n: usize, flags: u32) -> isize;
    fn klogctl(ty: c_int, buf: *mut u8, len: c_int) -> c_int;
    fn umask(mask: u32) -> u32;
    fn chdir(path: *const i8) -> c_int;
    fn _exit(code: c_int) -> !;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn __errno_location() -> *mut c_int;
}

pub const MS_RDONLY: u64 = 1;
pub const MS_NOSUID: u64 = 2;
pub const MS_NODEV: u64 = 4;
pub const MS_NOEXEC: u64 = 8;
pub const MS_REMOUNT: u64 = 32;
pub const MS_BIND: u64 = 4096;
pub const MS_MOVE: u64 = 8192;
pub const MNT_DETACH: c_int = 2;

pub const RB_AUTOBOOT: c_int = 0x0123_4567;
pub const RB_DISABLE_CAD: c_int = 0;

pub const SIGINT: c_int = 2;
pub const SIGKILL: c_int = 9;
pub const SIGPIPE: c_int = 13;
pub const SIGTERM: c_int = 15;
pub const SIGCHLD: c_int = 17;
pub const SIGSTOP: c_int = 19;

pub const O_RDONLY: c_int = 0;
pub const O_WRONLY: c_int = 1;
pub const O_RDWR: c_int = 2;
pub const O_NOCTTY: c_int = 0o400;
pub const O_NONBLOCK: c_int = 0o4000;
pub const O_CLOEXEC: c_int = 0o2000000;
pub const O_PATH: c_int = 0o10000000;
pub const O_DIRECTORY: c_int = 0o200000;

pub const POLLIN: i16 = 1;
pub const POLLOUT: i16 = 4;
pub const POLLERR: i16 = 8;
pub const POLLHUP: i16 = 0x10;
pub const POLLNVAL: i16 = 0x20;

const F_GETFL: c_int = 3;
const F_SETFL: c_int = 4;
const F_SETPIPE_SZ: c_int = 1031;
const WNOHANG: c_int = 1;
const SIG_BLOCK: c_int = 0;
const SIG_SETMASK: c_int = 2;
const SIG_DFL: usize = 0;
const SHUT_WR: c_int = 1;
const SOL_SOCKET: c_int = 1;
const SO_ERROR: c_int = 4;
/// Resource 0 is RLIMIT_CPU; RLIMIT_NOFILE is 7 on Linux.
const RLIMIT_NOFILE: c_int = 7;
/// A boot id needs uniqueness, and must not wait for the entropy pool at early boot.
const GRND_INSECURE: u32 = 4;
const SYSLOG_ACTION_READ_ALL: c_int = 3;

pub const ENOENT: c_int = 2;
pub const EINTR: c_int = 4;
pub const ENOEXEC: c_int = 8;
pub const EACCES: c_int = 13;
pub const ENOTDIR: c_int = 20;
pub const EISDIR: c_int = 21;
pub const EAGAIN: c_int = 11;
pub const ECHILD: c_int = 10;
pub const EINPROGRESS: c_int = 115;

pub const AF_INET: c_int = 2;
pub const AF_VSOCK: c_int = 40;
pub const SOCK_STREAM: c_int = 1;
pub const SOCK_DGRAM: c_int = 2;
pub const SOCK_NONBLOCK: c_int = 0o4000;
pub const SOCK_CLOEXEC: c_int = 0o2000000;
pub const VMADDR_CID_HOST: u32 = 2;
pub const VMADDR_CID_ANY: u32 = u32::MAX;

pub fn errno() -> c_int {
    // SAFETY: glibc returns a valid pointer to this thread's errno.
    unsafe { *__errno_location() }
}

fn cstr(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{s:?} contains a NUL byte")))
}

fn check(r: c_int) -> io::Result<c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

pub fn do_mount(src: &str, target: &str, fstype: &str, flags: u64, data: &str) -> io::Result<()> {
    let (s, t, f, d) = (cstr(src)?, cstr(target)?, cstr(fstype)?, cstr(data)?);
    let fp = if fstype.is_empty() { std::ptr::null() } else { f.as_ptr() };
    let dp = if data.is_empty() { std::ptr::null() } else { d.as_ptr() as *const u8 };
    // SAFETY: every pointer is null or a NUL-terminated string that lives until the call returns.
    check(unsafe { mount(s.as_ptr(), t.as_ptr(), fp, flags, dp) }).map(|_| ())
}

pub fn do_umount(target: &str, flags: c_int) -> io::Result<()> {
    let t = cstr(target)?;
    // SAFETY: t is a NUL-terminated string that outlives the call.
    check(unsafe { umount2(t.as_ptr(), flags) }).map(|_| ())
}

pub fn do_reboot(cmd: c_int) -> io::Result<()> {
    // SAFETY: reboot(2) takes no pointers; an invalid cmd is EINVAL.
    check(unsafe { reboot(cmd) }).map(|_| ())
}

pub fn do_chroot(path: &str) -> io::Result<()> {
    let p = cstr(path)?;
    // SAFETY: p is a NUL-terminated string that outlives the call.
    check(unsafe { chroot(p.as_ptr()) }).map(|_| ())
}

pub fn do_chdir(path: &CStr) -> c_int {
    // SAFETY: path is a NUL-terminated string borrowed for the call.
    unsafe { chdir(path.as_ptr()) }
}

pub fn do_sethostname(name: &str) -> io::Result<()> {
    // SAFETY: the kernel reads exactly name.len() bytes from name.
    check(unsafe { sethostname(name.as_ptr(), name.len()) }).map(|_| ())
}

/// Drops to the user: supplementary groups, then gid, then uid (order matters once uid is not 0).
pub fn set_ids(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    // SAFETY: the kernel reads groups.len() gids from groups.
    check(unsafe { setgroups(groups.len(), groups.as_ptr()) })?;
    // SAFETY: plain integers, no memory involved.
    check(unsafe { setresgid(gid, gid, gid) })?;
    // SAFETY: plain integers, no memory involved.
    check(unsafe { setresuid(uid, uid, uid) })?;
    Ok(())
}

/// fork(2). The child may only do what is safe after fork; init has a single thread, so no lock is held by a
/// thread that no longer exists in the child.
pub fn do_fork() -> io::Result<pid_t> {
    // SAFETY: see above: init is single-threaded, so the child's copy of the process state is consistent.
    check(unsafe { fork() })
}

/// A null-terminated array of C strings (argv, envp) for execve, built before fork so the child does not
/// allocate.
pub struct CStrArray {
    _strings: Vec<CString>,
    ptrs: Vec<*const i8>,
}

impl CStrArray {
    pub fn new(strings: Vec<CString>) -> Self {
        // the CStrings' buffers stay where they are when the Vec moves into the struct
        let mut ptrs: Vec<*const i8> = strings.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        CStrArray { _strings: strings, ptrs }
    }
}

/// execve; returns only on failure, with the errno.
pub fn do_execve(path: &CStr, argv: &CStrArray, envp: &CStrArray) -> c_int {
    // SAFETY: path is NUL-terminated; argv and envp are null-terminated arrays of pointers to the
    // NUL-terminated strings their CStrArray owns, alive for the call.
    unsafe { execve(path.as_ptr(), argv.ptrs.as_ptr(), envp.ptrs.as_ptr()) };
    errno()
}

/// (pid, raw status) of a child that changed state, None when none did (WNOHANG) or there are none.
pub fn wait_any_nohang() -> Option<(pid_t, c_int)> {
    let mut st = 0;
    // SAFETY: st is a valid, writable int for the call.
    let r = unsafe { waitpid(-1, &mut st, WNOHANG) };
    if r > 0 {
        Some((r, st))
    } else {
        None
    }
}

/// How a child ended, from waitpid's raw status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStatus {
    Exited(c_int),
    Signaled(c_int),
}

impl WaitStatus {
    pub fn from_raw(st: c_int) -> Self {
        // WIFEXITED / WEXITSTATUS / WTERMSIG of <sys/wait.h>
        match st & 0x7f {
            0 => WaitStatus::Exited((st >> 8) & 0xff),
            sig => WaitStatus::Signaled(sig),
        }
    }
}

/// True while any user process other than init exists. kill(-1, 0) cannot tell: it also "reaches" kernel
/// threads, so this walks /proc and skips kthreadd (pid 2) and its children.
pub fn other_processes_exist() -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else { return false };
    dir.flatten().any(|e| {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { return false };
        if pid <= 2 {
            return false;
        }
        let status = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
        let ppid = status.lines().find_map(|l| l.strip_prefix("PPid:")).map(str::trim).unwrap_or("2");
        ppid != "2" && ppid != "0"
    })
}

pub fn do_kill(pid: pid_t, sig: c_int) -> io::Result<()> {
    // SAFETY: plain integers, no memory involved.
    check(unsafe { kill(pid, sig) }).map(|_| ())
}

pub fn do_pipe(flags: c_int) -> io::Result<(c_int, c_int)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors the kernel writes.
    check(unsafe { pipe2(fds.as_mut_ptr(), flags) })?;
    Ok((fds[0], fds[1]))
}

pub fn do_dup2(old: c_int, new: c_int) -> io::Result<()> {
    // SAFETY: plain integers; a bad fd is EBADF.
    check(unsafe { dup2(old, new) }).map(|_| ())
}

pub fn do_close(fd: c_int) {
    if fd >= 0 {
        // SAFETY: plain integer; the caller owns fd and does not use it again.
        unsafe { close(fd) };
    }
}

pub fn do_read(fd: c_int, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the kernel writes at most buf.len() bytes into buf.
    let r = unsafe { read(fd, buf.as_mut_ptr(), buf.len()) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// read(2) into the spare capacity of `buf` (at most `max` bytes), growing its length by what was read.
pub fn read_append(fd: c_int, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    buf.reserve(max);
    let spare = buf.spare_capacity_mut();
    let n = max.min(spare.len());
    // SAFETY: the kernel writes at most n bytes, and n <= the spare capacity.
    let r = unsafe { read(fd, spare.as_mut_ptr() as *mut u8, n) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel initialised the first r bytes of the spare capacity.
    unsafe { buf.set_len(buf.len() + r as usize) };
    Ok(r as usize)
}

pub fn do_write(fd: c_int, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: the kernel reads at most buf.len() bytes from buf.
    let r = unsafe { write(fd, buf.as_ptr(), buf.len()) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// Writes everything (blocking fds), retrying on EINTR.
pub fn write_all(fd: c_int, mut buf: &[u8]) {
    while !buf.is_empty() {
        match do_write(fd, buf) {
            Ok(0) => return,
            Ok(n) => buf = &buf[n..],
            Err(e) if e.raw_os_error() == Some(EINTR) => {}
            Err(_) => return,
        }
    }
}

pub fn do_open(path: &str, flags: c_int, mode: u32) -> io::Result<c_int> {
    let p = cstr(path)?;
    // SAFETY: p is a NUL-terminated string that outlives the call.
    check(unsafe { open(p.as_ptr(), flags, mode) })
}

pub fn sigset(signals: &[c_int]) -> SigSet {
    let mut s = SigSet([0; 16]);
    for &sig in signals {
        let bit = (sig - 1) as usize;
        s.0[bit / 64] |= 1 << (bit % 64);
    }
    s
}

pub fn block_signals(set: &SigSet) -> io::Result<()> {
    // SAFETY: set is a valid sigset; the old set is not asked for (null).
    check(unsafe { sigprocmask(SIG_BLOCK, set, std::ptr::null_mut()) }).map(|_| ())
}

pub fn unblock_all_signals() {
    let empty = SigSet([0; 16]);
    // SAFETY: empty is a valid sigset; the old set is not asked for (null).
    unsafe { sigprocmask(SIG_SETMASK, &empty, std::ptr::null_mut()) };
}

/// Restores the default disposition (std ignores SIGPIPE; the workload must not inherit that).
pub fn default_signal(sig: c_int) {
    // SAFETY: SIG_DFL installs no handler code.
    unsafe { signal(sig, SIG_DFL) };
}

pub fn make_signalfd(set: &SigSet) -> io::Result<c_int> {
    // SAFETY: set is a valid sigset for the call.
    check(unsafe { signalfd(-1, set, O_NONBLOCK | O_CLOEXEC) })
}

/// Reads one pending signal number from a signalfd.
pub fn read_signal(fd: c_int) -> Option<u32> {
    let mut info = [0u8; 128];
    match do_read(fd, &mut info) {
        Ok(128) => Some(u32::from_ne_bytes(info[..4].try_into().unwrap())),
        _ => None,
    }
}

pub fn do_poll(fds: &mut [PollFd], timeout_ms: c_int) -> io::Result<usize> {
    // SAFETY: PollFd is #[repr(C)] like struct pollfd; the kernel touches fds.len() entries.
    let r = unsafe { poll(fds.as_mut_ptr(), fds.len() as u64, timeout_ms) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

pub fn vsock_addr(cid: u32, port: u32) -> SockaddrVm {
    SockaddrVm { family: AF_VSOCK as u16, reserved1: 0, port, cid, zero: [0; 4] }
}

/// Starts a non-blocking connect; Ok(fd) also when it is still in progress (EINPROGRESS).
pub fn vsock_connect(cid: u32, port: u32) -> io::Result<c_int> {
    // SAFETY: plain integers, no memory involved.
    let fd = check(unsafe { socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) })?;
    let a = vsock_addr(cid, port);
    // SAFETY: a is a #[repr(C)] sockaddr_vm and the length passed is its size.
    let r = unsafe { connect(fd, &a, std::mem::size_of::<SockaddrVm>() as u32) };
    if r < 0 && errno() != EINPROGRESS {
        let e = io::Error::last_os_error();
        do_close(fd);
        return Err(e);
    }
    Ok(fd)
}

pub fn vsock_listen(port: u32) -> io::Result<c_int> {
    // SAFETY: plain integers, no memory involved.
    let fd = check(unsafe { socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) })?;
    let a = vsock_addr(VMADDR_CID_ANY, port);
    // SAFETY: a is a #[repr(C)] sockaddr_vm and the length passed is its size.
    let bound = unsafe { bind(fd, &a, std::mem::size_of::<SockaddrVm>() as u32) } == 0;
    // SAFETY: plain integers, no memory involved.
    if !bound || unsafe { listen(fd, 4) } < 0 {
        let e = io::Error::last_os_error();
        do_close(fd);
        return Err(e);
    }
    Ok(fd)
}

pub fn do_accept(fd: c_int) -> io::Result<c_int> {
    // SAFETY: null address and length: the peer's address is not asked for.
    check(unsafe { accept4(fd, std::ptr::null_mut(), std::ptr::null_mut(), SOCK_NONBLOCK | SOCK_CLOEXEC) })
}

/// The result of a non-blocking connect (SO_ERROR).
pub fn socket_error(fd: c_int) -> c_int {
    let mut v: c_int = 0;
    let mut len = 4u32;
    // SAFETY: v is an int and len says so; the kernel writes at most len bytes.
    if unsafe { getsockopt(fd, SOL_SOCKET, SO_ERROR, &mut v, &mut len) } < 0 {
        return errno();
    }
    v
}

pub fn shutdown_write(fd: c_int) {
    // SAFETY: plain integers, no memory involved.
    unsafe { shutdown(fd, SHUT_WR) };
}

pub fn set_nofile(n: u64) -> io::Result<()> {
    let l = Rlimit { cur: n, max: n };
    // SAFETY: l is a #[repr(C)] struct rlimit, read for the call.
    check(unsafe { setrlimit(RLIMIT_NOFILE, &l) }).map(|_| ())
}

pub fn do_setsid() {
    // SAFETY: no arguments; failure (already a leader) is harmless.
    unsafe { setsid() };
}

pub fn do_sync() {
    // SAFETY: no arguments.
    unsafe { sync() };
}

pub fn do_umask(m: u32) {
    // SAFETY: plain integer, no memory involved.
    unsafe { umask(m) };
}

pub fn exit_now(code: c_int) -> ! {
    // SAFETY: _exit ends the process without running anything of this one (what the child after fork needs).
    unsafe { _exit(code) }
}

pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: the kernel writes at most 8 bytes into b.
    let r = unsafe { getrandom(b.as_mut_ptr(), 8, GRND_INSECURE) };
    if r == 8 {
        return u64::from_ne_bytes(b);
    }
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    t.as_nanos() as u64 ^ 0x9E37_79B9_7F4A_7C15
}

/// The kernel log (SYSLOG_ACTION_READ_ALL), for the OOM killer's messages.
pub fn kernel_log() -> String {
    let mut buf = vec![0u8; 1 << 17];
    // SAFETY: the kernel writes at most buf.len() bytes into buf.
    let n = unsafe { klogctl(SYSLOG_ACTION_READ_ALL, buf.as_mut_ptr(), buf.len() as c_int) };
    if n <= 0 {
        return String::new();
    }
    String::from_utf8_lossy(&buf[..n as usize]).into_owned()
}

/// F_SETPIPE_SZ; failure (e.g. over pipe-max-size) keeps the default 64 KiB.
pub fn set_pipe_size(fd: c_int, size: c_int) {
    // SAFETY: F_SETPIPE_SZ takes an int argument; no memory involved.
    unsafe { fcntl(fd, F_SETPIPE_SZ, size) };
}

pub fn set_nonblock(fd: c_int) {
    // SAFETY: F_GETFL and F_SETFL take (and return) int flags; no memory involved.
    unsafe {
        let fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
}

/// CRC-32 folding by carry-less multiplication, when the CPU can: `(register, tail)` where the table loop
/// continues from `register` over `tail` (< 16 bytes). None when the CPU lacks PCLMULQDQ/SSE4.1 or data is short.
pub fn crc32_fold(data: &[u8]) -> Option<(u32, &[u8])> {
    #[cfg(target_arch = "x86_64")]
    if data.len() >= 64 && clmul::available() {
        // SAFETY: the CPU has the features clmul::fold is compiled for (checked just above), and data is long
        // enough for its first four loads.
        return Some(unsafe { clmul::fold(data) });
    }
    None
}

/// CRC-32 by carry-less multiplication (folding, as in Intel's "Fast CRC Computation for Generic Polynomials
/// Using PCLMULQDQ" and zlib/crc32fast). The intrinsics are safe inside functions compiled for their features;
/// what stays unsafe is calling such a function (the CPU must have them) and the unaligned loads.
#[cfg(target_arch = "x86_64")]
mod clmul {
    use std::arch::x86_64::*;
    use std::sync::atomic::{AtomicU8, Ordering};

    const K1: i64 = 0x1_5444_2bd4;
    const K2: i64 = 0x1_c6e4_1596;
    const K3: i64 = 0x1_7519_97d0;
    const K4: i64 = 0x0_ccaa_009e;
    const K5: i64 = 0x1_63cd_6124;
    const P_X: i64 = 0x1_DB71_0641;
    const U_PRIME: i64 = 0x1_F701_1641;

    static HAVE: AtomicU8 = AtomicU8::new(0); // 0 unknown, 1 no, 2 yes

    pub fn available() -> bool {
        match HAVE.load(Ordering::Relaxed) {
            0 => {
                let yes = std::is_x86_feature_detected!("pclmulqdq") && std::is_x86_feature_detected!("sse4.1");
                HAVE.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
                yes
            }
            v => v == 2,
        }
    }

    /// The next 16 bytes of `a` (which must have them).
    #[inline]
    #[target_feature(enable = "sse2")]
    fn get(a: &mut &[u8]) -> __m128i {
        let (head, rest) = a.split_at(16);
        // SAFETY: head is 16 readable bytes; loadu has no alignment requirement.
        let r = unsafe { _mm_loadu_si128(head.as_ptr() as *const __m128i) };
        *a = rest;
        r
    }

    #[inline]
    #[target_feature(enable = "pclmulqdq,sse2")]
    fn fold_into(a: __m128i, b: __m128i, keys: __m128i) -> __m128i {
        let t1 = _mm_clmulepi64_si128(a, keys, 0x00);
        let t2 = _mm_clmulepi64_si128(a, keys, 0x11);
        _mm_xor_si128(_mm_xor_si128(b, t1), t2)
    }

    /// `(register, tail)`; needs data.len() >= 64.
    #[target_feature(enable = "pclmulqdq,sse2,sse4.1")]
    pub fn fold(mut data: &[u8]) -> (u32, &[u8]) {
        let mut x3 = get(&mut data);
        let mut x2 = get(&mut data);
        let mut x1 = get(&mut data);
        let mut x0 = get(&mut data);
        x3 = _mm_xor_si128(x3, _mm_cvtsi32_si128(!0));
        let k1k2 = _mm_set_epi64x(K2, K1);
        while data.len() >= 64 {
            x3 = fold_into(x3, get(&mut data), k1k2);
            x2 = fold_into(x2, get(&mut data), k1k2);
            x1 = fold_into(x1, get(&mut data), k1k2);
            x0 = fold_into(x0, get(&mut data), k1k2);
        }
        let k3k4 = _mm_set_epi64x(K4, K3);
        let mut x = fold_into(x3, x2, k3k4);
        x = fold_into(x, x1, k3k4);
        x = fold_into(x, x0, k3k4);
        while data.len() >= 16 {
            x = fold_into(x, get(&mut data), k3k4);
        }
        // 128 → 64 bits
        let x = _mm_xor_si128(_mm_clmulepi64_si128(x, k3k4, 0x10), _mm_srli_si128(x, 8));
        let low32 = _mm_set_epi32(0, 0, 0, !0);
        let x = _mm_xor_si128(
            _mm_clmulepi64_si128(_mm_and_si128(x, low32), _mm_set_epi64x(0, K5), 0x00),
            _mm_srli_si128(x, 4),
        );
        // Barrett reduction 64 → 32 bits (bit-reflected)
        let pu = _mm_set_epi64x(U_PRIME, P_X);
        let t1 = _mm_clmulepi64_si128(_mm_and_si128(x, low32), pu, 0x10);
        let t2 = _mm_clmulepi64_si128(_mm_and_si128(t1, low32), pu, 0x00);
        let c = _mm_extract_epi32(_mm_xor_si128(x, t2), 1) as u32;
        // the tail (< 16 bytes) continues from the register value c
        (c, data)
    }
}

// --- terminals ---
// The pseudo-terminals of PROTOCOL.md §10 (`-t`). ioctl(2) is the declaration above, whose pointer argument is
// typed for struct ifreq: the calls below cast to it (the kernel reads the request's own type), as rtnetlink does.

#[repr(C)]
struct WinSize {
    rows: u16,
    cols: u16,
    xpixel: u16,
    ypixel: u16,
}

const TIOCSCTTY: u64 = 0x540E;
const TIOCSWINSZ: u64 = 0x5414;
const TIOCGPTN: u64 = 0x8004_5430;
const TIOCSPTLCK: u64 = 0x4004_5431;
const F_DUPFD_CLOEXEC: c_int = 1030;
pub const EIO: c_int = 5;
pub const EPIPE: c_int = 32;

/// A new pseudo-terminal of the guest's devpts instance: (master, slave), both close-on-exec, neither the
/// caller's controlling terminal.
pub fn open_pty() -> io::Result<(c_int, c_int)> {
    let m = do_open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0)
        .or_else(|_| do_open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0))?;
    let mut unlock: c_int = 0;
    let mut n: u32 = 0;
    // SAFETY: TIOCSPTLCK reads an int and TIOCGPTN writes an unsigned int; both point at live locals.
    let r = unsafe {
        let a = ioctl(m, TIOCSPTLCK, &mut unlock as *mut c_int as *mut IfReq);
        if a < 0 {
            a
        } else {
            ioctl(m, TIOCGPTN, &mut n as *mut u32 as *mut IfReq)
        }
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        do_close(m);
        return Err(e);
    }
    match do_open(&format!("/dev/pts/{n}"), O_RDWR | O_NOCTTY | O_CLOEXEC, 0) {
        Ok(s) => Ok((m, s)),
        Err(e) => {
            do_close(m);
            Err(e)
        }
    }
}

/// TIOCSWINSZ: the terminal's size (the kernel sends SIGWINCH to its foreground process group).
pub fn set_winsize(fd: c_int, rows: u16, cols: u16) -> io::Result<()> {
    let mut w = WinSize { rows, cols, xpixel: 0, ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads a struct winsize, which w is (#[repr(C)], four u16), alive for the call.
    check(unsafe { ioctl(fd, TIOCSWINSZ, &mut w as *mut WinSize as *mut IfReq) }).map(|_| ())
}

/// TIOCSCTTY: makes the terminal `fd` the controlling terminal of the calling session leader; 0 or the errno.
pub fn set_controlling_tty(fd: c_int) -> c_int {
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal), passed as a null pointer.
    if unsafe { ioctl(fd, TIOCSCTTY, std::ptr::null_mut()) } < 0 {
        errno()
    } else {
        0
    }
}

/// A second, close-on-exec descriptor of the same open file.
pub fn dup_cloexec(fd: c_int) -> io::Result<c_int> {
    // SAFETY: F_DUPFD_CLOEXEC takes an int (the lowest new fd); no memory involved.
    check(unsafe { fcntl(fd, F_DUPFD_CLOEXEC, 0) })
}

/// waitpid(pid) blocking: the raw status (tests and the forked children's parents that must wait).
pub fn wait_pid(pid: pid_t) -> Option<c_int> {
    let mut st = 0;
    loop {
        // SAFETY: st is a valid, writable int for the call.
        let r = unsafe { waitpid(pid, &mut st, 0) };
        if r == pid {
            return Some(st);
        }
        if r < 0 && errno() == EINTR {
            continue;
        }
        return None;
    }
}

// --- rtnetlink ---
// The socket calls of the guest's network setup (the messages themselves are built in netlink.rs).

#[repr(C)]
pub struct SockaddrNl {
    pub family: u16,
    pub pad: u16,
    pub pid: u32,
    pub groups: u32,
}

/// struct ifreq with the ifr_ifindex member of its union (SIOCGIFINDEX); the same size as IfReq.
#[repr(C)]
pub struct IfReqIndex {
    pub name: [u8; 16],
    pub index: c_int,
    pub pad: [u8; 20],
}

// bind(2) and ioctl(2) are the declarations above, whose pointer argument is typed for vsock / struct ifreq:
// the calls below cast to it (the C functions take any sockaddr / request struct) rather than redeclare them.
extern "C" {
    fn sendto(fd: c_int, buf: *const u8, n: usize, flags: c_int, addr: *const SockaddrNl, len: u32) -> isize;
    fn recv(fd: c_int, buf: *mut u8, n: usize, flags: c_int) -> isize;
}

const _: () = assert!(std::mem::size_of::<IfReqIndex>() == std::mem::size_of::<IfReq>());

pub const AF_NETLINK: c_int = 16;
pub const SOCK_RAW: c_int = 3;
pub const NETLINK_ROUTE: c_int = 0;
const SIOCGIFINDEX: u64 = 0x8933;

fn netlink_kernel() -> SockaddrNl {
    SockaddrNl { family: AF_NETLINK as u16, pad: 0, pid: 0, groups: 0 }
}

/// A NETLINK_ROUTE socket bound to a kernel-chosen port id.
pub fn netlink_route_socket() -> io::Result<c_int> {
    // SAFETY: socket(2) takes no pointers; the returned fd is owned by the caller.
    let fd = check(unsafe { socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) })?;
    let local = netlink_kernel(); // pid 0 in bind: let the kernel assign the port id
    let addr = &local as *const SockaddrNl as *const SockaddrVm;
    // SAFETY: `addr` points to `local`, a valid sockaddr_nl that outlives the call, and len is its exact size.
    if unsafe { bind(fd, addr, std::mem::size_of::<SockaddrNl>() as u32) } < 0 {
        let e = io::Error::last_os_error();
        do_close(fd);
        return Err(e);
    }
    Ok(fd)
}

/// Sends one whole netlink message to the kernel.
pub fn netlink_send(fd: c_int, msg: &[u8]) -> io::Result<()> {
    let to = netlink_kernel();
    loop {
        // SAFETY: msg is a valid slice for msg.len() bytes and `to` a valid sockaddr_nl for the call.
        let r = unsafe { sendto(fd, msg.as_ptr(), msg.len(), 0, &to, std::mem::size_of::<SockaddrNl>() as u32) };
        if r >= 0 {
            return if r as usize == msg.len() {
                Ok(())
            } else {
                Err(io::Error::new(io::ErrorKind::WriteZero, "netlink message sent in part"))
            };
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(EINTR) {
            return Err(e);
        }
    }
}

/// Receives one datagram (one or more netlink messages) into buf; returns its length.
pub fn netlink_recv(fd: c_int, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is a valid, writable slice of buf.len() bytes for the duration of the call.
        let r = unsafe { recv(fd, buf.as_mut_ptr(), buf.len(), 0) };
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(EINTR) {
            return Err(e);
        }
    }
}

/// The index of a network interface (what if_nametoindex(3) does: ioctl SIOCGIFINDEX).
pub fn if_index(name: &str) -> io::Result<u32> {
    if name.is_empty() || name.len() > 15 || name.contains('\0') {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{name:?} is not an interface name")));
    }
    let mut req = IfReqIndex { name: [0; 16], index: 0, pad: [0; 20] };
    req.name[..name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: socket(2) takes no pointers; the fd is closed below.
    let fd = check(unsafe { socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) })?;
    // the same 40-byte struct ifreq as IfReq, read through its other union member
    let arg = &mut req as *mut IfReqIndex as *mut IfReq;
    // SAFETY: req is a valid, NUL-terminated struct ifreq (40 bytes) that the kernel may write for the call.
    let r = check(unsafe { ioctl(fd, SIOCGIFINDEX, arg) });
    do_close(fd);
    r?;
    Ok(req.index as u32)
}

// --- archive support (init/src/archive.rs): what std::os::unix lacks for unpacking a tar ---

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

/// open(2) flag: fail on a final symlink instead of following it (a file swapped for a symlink mid-walk).
pub const O_NOFOLLOW: c_int = 0o400000;
const AT_FDCWD: c_int = -100;
const AT_SYMLINK_NOFOLLOW: c_int = 0x100;

extern "C" {
    fn utimensat(dirfd: c_int, path: *const i8, times: *const Timespec, flags: c_int) -> c_int;
}

/// Sets a path's access and modification time to `mtime` (seconds since the epoch) without following a final
/// symlink (utimensat(2) with AT_SYMLINK_NOFOLLOW), so a symlink's own time is set, never its target's.
pub fn set_mtime_nofollow(path: &std::path::Path, mtime: i64) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{path:?} contains a NUL byte")))?;
    let times = [Timespec { sec: mtime, nsec: 0 }, Timespec { sec: mtime, nsec: 0 }];
    // SAFETY: c is a NUL-terminated path and times two valid struct timespec, both read only during the call.
    check(unsafe { utimensat(AT_FDCWD, c.as_ptr(), times.as_ptr(), AT_SYMLINK_NOFOLLOW) }).map(|_| ())
}

extern "C" {
    fn statfs(path: *const i8, buf: *mut [u64; 16]) -> c_int;
}

/// statfs(2)'s f_type magic for /proc and /sys: the archive writer does not descend into them.
pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
pub const SYSFS_MAGIC: i64 = 0x6265_6572;

/// The filesystem type (statfs(2)'s f_type) of the filesystem holding `path`.
pub fn fs_type(path: &std::path::Path) -> io::Result<i64> {
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{path:?} contains a NUL byte")))?;
    // struct statfs is 120 bytes on x86_64 and aarch64, f_type (a long) its first field
    let mut buf = [0u64; 16];
    // SAFETY: c is a NUL-terminated path; buf is 128 writable bytes, more than the kernel's struct statfs.
    check(unsafe { statfs(c.as_ptr(), &mut buf) })?;
    Ok(buf[0] as i64)
}
