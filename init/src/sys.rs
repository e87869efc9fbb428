//! The few glibc functions init needs beyond std, declared by hand (no crates.io), with thin safe wrappers.
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
    fn __errno_location() -> *mut c_int;
}

pub const MS_RDONLY: u64 = 1;
pub const MS_NOSUID: u64 = 2;
pub const MS_NODEV: u64 = 4;
pub const MS_NOEXEC: u64 = 8;
pub const MS_REMOUNT: u64 = 32;
pub const MS_MOVE: u64 = 8192;
pub const MNT_DETACH: c_int = 2;

pub const RB_AUTOBOOT: c_int = 0x0123_4567;
pub const RB_DISABLE_CAD: c_int = 0;

pub const SIGINT: c_int = 2;
pub const SIGKILL: c_int = 9;
pub const SIGPIPE: c_int = 13;
pub const SIGTERM: c_int = 15;
pub const SIGCHLD: c_int = 17;

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

pub const EINTR: c_int = 4;
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
    check(unsafe { mount(s.as_ptr(), t.as_ptr(), fp, flags, dp) }).map(|_| ())
}

pub fn do_umount(target: &str, flags: c_int) -> io::Result<()> {
    let t = cstr(target)?;
    check(unsafe { umount2(t.as_ptr(), flags) }).map(|_| ())
}

pub fn do_reboot(cmd: c_int) -> io::Result<()> {
    check(unsafe { reboot(cmd) }).map(|_| ())
}

pub fn do_chroot(path: &str) -> io::Result<()> {
    let p = cstr(path)?;
    check(unsafe { chroot(p.as_ptr()) }).map(|_| ())
}

pub fn do_chdir(path: &CStr) -> c_int {
    unsafe { chdir(path.as_ptr()) }
}

pub fn do_sethostname(name: &str) -> io::Result<()> {
    check(unsafe { sethostname(name.as_ptr(), name.len()) }).map(|_| ())
}

/// Drops to the user: supplementary groups, then gid, then uid (order matters once uid is not 0).
pub fn set_ids(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    check(unsafe { setgroups(groups.len(), groups.as_ptr()) })?;
    check(unsafe { setresgid(gid, gid, gid) })?;
    check(unsafe { setresuid(uid, uid, uid) })?;
    Ok(())
}

pub fn do_fork() -> io::Result<pid_t> {
    check(unsafe { fork() })
}

/// execve; returns only on failure, with the errno.
pub fn do_execve(path: &CStr, argv: &[*const i8], envp: &[*const i8]) -> c_int {
    unsafe { execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    errno()
}

/// (pid, raw status) of a child that changed state, None when none did (WNOHANG) or there are none.
pub fn wait_any_nohang() -> Option<(pid_t, c_int)> {
    let mut st = 0;
    let r = unsafe { waitpid(-1, &mut st, 1) };
    if r > 0 {
        Some((r, st))
    } else {
        None
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
    check(unsafe { kill(pid, sig) }).map(|_| ())
}

pub fn do_pipe(flags: c_int) -> io::Result<(c_int, c_int)> {
    let mut fds = [0; 2];
    check(unsafe { pipe2(fds.as_mut_ptr(), flags) })?;
    Ok((fds[0], fds[1]))
}

pub fn do_dup2(old: c_int, new: c_int) -> io::Result<()> {
    check(unsafe { dup2(old, new) }).map(|_| ())
}

pub fn do_close(fd: c_int) {
    if fd >= 0 {
        unsafe { close(fd) };
    }
}

pub fn do_read(fd: c_int, buf: &mut [u8]) -> io::Result<usize> {
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
    let r = unsafe { read(fd, spare.as_mut_ptr() as *mut u8, n) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel initialised the first r bytes of the spare capacity.
    unsafe { buf.set_len(buf.len() + r as usize) };
    Ok(r as usize)
}

pub fn do_write(fd: c_int, buf: &[u8]) -> io::Result<usize> {
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
    check(unsafe { sigprocmask(0, set, std::ptr::null_mut()) }).map(|_| ())
}

pub fn unblock_all_signals() {
    let empty = SigSet([0; 16]);
    unsafe { sigprocmask(2, &empty, std::ptr::null_mut()) };
}

/// Restores the default disposition (std ignores SIGPIPE; the workload must not inherit that).
pub fn default_signal(sig: c_int) {
    unsafe { signal(sig, 0) };
}

pub fn make_signalfd(set: &SigSet) -> io::Result<c_int> {
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
    let fd = check(unsafe { socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) })?;
    let a = vsock_addr(cid, port);
    let r = unsafe { connect(fd, &a, std::mem::size_of::<SockaddrVm>() as u32) };
    if r < 0 && errno() != EINPROGRESS {
        let e = io::Error::last_os_error();
        do_close(fd);
        return Err(e);
    }
    Ok(fd)
}

pub fn vsock_listen(port: u32) -> io::Result<c_int> {
    let fd = check(unsafe { socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) })?;
    let a = vsock_addr(VMADDR_CID_ANY, port);
    if unsafe { bind(fd, &a, std::mem::size_of::<SockaddrVm>() as u32) } < 0 || unsafe { listen(fd, 4) } < 0 {
        let e = io::Error::last_os_error();
        do_close(fd);
        return Err(e);
    }
    Ok(fd)
}

pub fn do_accept(fd: c_int) -> io::Result<c_int> {
    check(unsafe { accept4(fd, std::ptr::null_mut(), std::ptr::null_mut(), SOCK_NONBLOCK | SOCK_CLOEXEC) })
}

/// The result of a non-blocking connect (SO_ERROR).
pub fn socket_error(fd: c_int) -> c_int {
    let mut v: c_int = 0;
    let mut len = 4u32;
    // SOL_SOCKET = 1, SO_ERROR = 4
    if unsafe { getsockopt(fd, 1, 4, &mut v, &mut len) } < 0 {
        return errno();
    }
    v
}

pub fn shutdown_write(fd: c_int) {
    unsafe { shutdown(fd, 1) };
}

pub fn set_nofile(n: u64) -> io::Result<()> {
    let l = Rlimit { cur: n, max: n };
    // RLIMIT_NOFILE is 7 on Linux (resource 0 is RLIMIT_CPU).
    check(unsafe { setrlimit(7, &l) }).map(|_| ())
}

pub fn do_setsid() {
    unsafe { setsid() };
}

pub fn do_sync() {
    unsafe { sync() };
}

pub fn do_umask(m: u32) {
    unsafe { umask(m) };
}

pub fn exit_now(code: c_int) -> ! {
    unsafe { _exit(code) }
}

/// Brings the loopback interface up (ioctl SIOCGIFFLAGS / SIOCSIFFLAGS).
pub fn loopback_up() -> io::Result<()> {
    let fd = check(unsafe { socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) })?;
    let mut req = IfReq { name: [0; 16], flags: 0, pad: [0; 22] };
    req.name[..2].copy_from_slice(b"lo");
    let r = (|| {
        check(unsafe { ioctl(fd, 0x8913, &mut req) })?;
        req.flags |= 1; // IFF_UP
        check(unsafe { ioctl(fd, 0x8914, &mut req) })?;
        Ok(())
    })();
    do_close(fd);
    r
}

pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // GRND_INSECURE (4): a boot id needs uniqueness, and must not wait for the entropy pool at early boot.
    let r = unsafe { getrandom(b.as_mut_ptr(), 8, 4) };
    if r == 8 {
        return u64::from_ne_bytes(b);
    }
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    t.as_nanos() as u64 ^ 0x9E37_79B9_7F4A_7C15
}

/// The kernel log (SYSLOG_ACTION_READ_ALL), for the OOM killer's messages.
pub fn kernel_log() -> String {
    let mut buf = vec![0u8; 1 << 17];
    let n = unsafe { klogctl(3, buf.as_mut_ptr(), buf.len() as c_int) };
    if n <= 0 {
        return String::new();
    }
    String::from_utf8_lossy(&buf[..n as usize]).into_owned()
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

// bind(2) and ioctl(2) are the declarations above, whose pointer argument is typed for vsock / SIOCGIFFLAGS:
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
