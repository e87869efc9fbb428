//! Starting the workload: user, working directory, PATH lookup, exec — with Docker's 126/127 on failure.

use crate::config::Process;
use crate::spec::{self, Failure, User};
use crate::sys;
use std::ffi::CString;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};

/// A started process and init's ends of its standard streams (non-blocking, close-on-exec; -1 when absent).
pub struct Started {
    pub pid: i32,
    /// The stdout pipe, or with a terminal its master side (the one output stream, §10).
    pub stdout: i32,
    /// The stderr pipe; -1 with a terminal.
    pub stderr: i32,
    /// Where the process's stdin is written: the pipe, or a second descriptor of the master; -1 when the
    /// process has no stdin (`stdin` false).
    pub stdin: i32,
    /// The master side again, kept for resizes; -1 without a terminal.
    pub tty: i32,
}

/// The user (through the image's /etc/passwd and /etc/group) and the environment with HOME.
pub fn resolve(s: &Process) -> Result<(User, Vec<String>), Failure> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let user = spec::resolve_user(&s.user, &passwd, &group)?;
    Ok((user.clone(), spec::finish_env(s.env.clone(), &user.home)))
}

/// [`resolve`], and the main process's working directory is created (root-owned, 0755) when missing.
pub fn prepare(s: &Process) -> Result<(User, Vec<String>), Failure> {
    let (user, env) = resolve(s)?;
    if !std::path::Path::new(&s.workdir).is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&s.workdir)
            .map_err(|e| Failure::setup(format!("cannot create the working directory {}: {e}", s.workdir)))?;
    }
    Ok((user, env))
}

fn cstrings(v: &[String]) -> Result<Vec<CString>, Failure> {
    v.iter()
        .map(|s| CString::new(s.as_str()).map_err(|_| Failure::setup(format!("{s:?} contains a NUL byte"))))
        .collect()
}

/// Candidates for argv[0]: itself when it has a slash, else each PATH directory (the workload's PATH).
fn candidates(argv0: &str, env: &[String]) -> Vec<String> {
    if argv0.contains('/') {
        return vec![argv0.to_string()];
    }
    let path = spec::lookup_env(env, "PATH").unwrap_or(spec::DEFAULT_PATH);
    path.split(':').map(|d| if d.is_empty() { "." } else { d }).map(|d| format!("{d}/{argv0}")).collect()
}

/// The process's standard streams, as `s.tty` and `s.stdin` ask (PROTOCOL.md §10): the child's ends and init's.
pub(crate) struct Stdio {
    /// The child's fds 0, 1, 2.
    pub(crate) child: [i32; 3],
    pub(crate) out_r: i32,
    pub(crate) err_r: i32,
    pub(crate) in_w: i32,
    master: i32,
}

impl Stdio {
    fn new(s: &Process) -> Result<Stdio, Failure> {
        if s.tty {
            let (master, slave) =
                sys::open_pty().map_err(|e| Failure::setup(format!("cannot open a pseudo-terminal: {e}")))?;
            if let Some((rows, cols)) = s.console_size {
                let _ = sys::set_winsize(master, rows, cols);
            }
            let in_w = if s.stdin { sys::dup_cloexec(master) } else { Ok(-1) };
            return match (in_w, sys::dup_cloexec(master)) {
                (Ok(in_w), Ok(resize)) => {
                    Ok(Stdio { child: [slave, slave, slave], out_r: master, err_r: -1, in_w, master: resize })
                }
                (a, b) => {
                    for fd in [a.as_ref().ok(), b.as_ref().ok()].into_iter().flatten().chain([&master, &slave]) {
                        sys::do_close(*fd);
                    }
                    Err(Failure::setup(format!("dup: {}", a.and(b).unwrap_err())))
                }
            };
        }
        Stdio::pipes(s.stdin)
    }

    /// stdout and stderr as two pipes, stdin a pipe when `stdin` (else /dev/null): for execs and for init's own
    /// forked children (builtin.rs).
    pub(crate) fn pipes(stdin: bool) -> Result<Stdio, Failure> {
        let pipe = || sys::do_pipe(sys::O_CLOEXEC).map_err(|e| Failure::setup(format!("pipe: {e}")));
        let close = |fds: &[i32]| fds.iter().for_each(|&fd| sys::do_close(fd));
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe().inspect_err(|_| close(&[out_r, out_w]))?;
        let stdin = if stdin {
            pipe()
        } else {
            sys::do_open("/dev/null", sys::O_RDONLY | sys::O_CLOEXEC, 0)
                .map(|null| (null, -1))
                .map_err(|e| Failure::setup(format!("cannot open /dev/null: {e}")))
        };
        let (in_r, in_w) = stdin.inspect_err(|_| close(&[out_r, out_w, err_r, err_w]))?;
        Ok(Stdio { child: [in_r, out_w, err_w], out_r, err_r, in_w, master: -1 })
    }

    /// After fork, in the parent: the child's ends are the child's.
    pub(crate) fn close_child(&self) {
        sys::do_close(self.child[0]);
        if self.child[1] != self.child[0] {
            sys::do_close(self.child[1]);
            sys::do_close(self.child[2]);
        }
    }

    pub(crate) fn close_ours(&self) {
        for fd in [self.out_r, self.err_r, self.in_w, self.master] {
            sys::do_close(fd);
        }
    }
}

/// Forks and execs; the child reports a failure before exec over a close-on-exec pipe.
pub fn spawn(s: &Process, user: &User, env: &[String]) -> Result<Started, Failure> {
    let argv = sys::CStrArray::new(cstrings(&s.argv)?);
    let envp = sys::CStrArray::new(cstrings(env)?);
    let cands = cstrings(&candidates(&s.argv[0], env))?;
    let workdir = CString::new(s.workdir.as_str()).map_err(|_| Failure::setup("working directory contains NUL"))?;

    let io = Stdio::new(s)?;
    let (st_r, st_w) = match sys::do_pipe(sys::O_CLOEXEC) {
        Ok(p) => p,
        Err(e) => {
            io.close_child();
            io.close_ours();
            return Err(Failure::setup(format!("pipe: {e}")));
        }
    };

    let pid = match sys::do_fork() {
        Ok(p) => p,
        Err(e) => {
            for fd in [st_r, st_w] {
                sys::do_close(fd);
            }
            io.close_child();
            io.close_ours();
            return Err(Failure::setup(format!("fork: {e}")));
        }
    };
    if pid == 0 {
        // Child. init is single-threaded, so everything here is safe after fork.
        let fail = |stage: u8, err: i32| -> ! {
            let mut msg = [0u8; 5];
            msg[0] = stage;
            msg[1..].copy_from_slice(&err.to_ne_bytes());
            sys::write_all(st_w, &msg);
            sys::exit_now(127)
        };
        sys::do_setsid();
        sys::unblock_all_signals();
        for sig in 1..32 {
            if sig != sys::SIGKILL && sig != sys::SIGSTOP {
                sys::default_signal(sig);
            }
        }
        // a terminal becomes the controlling one of this new session (setsid above)
        if s.tty {
            let e = sys::set_controlling_tty(io.child[0]);
            if e != 0 {
                fail(1, e);
            }
        }
        for (target, &fd) in io.child.iter().enumerate() {
            if sys::do_dup2(fd, target as i32).is_err() {
                fail(1, sys::errno());
            }
        }
        sys::do_umask(0o022);
        let _ = std::fs::write("/proc/self/oom_score_adj", "0");
        if let Err(e) = sys::set_ids(user.uid, user.gid, &user.groups) {
            fail(2, e.raw_os_error().unwrap_or(0));
        }
        if sys::do_chdir(&workdir) < 0 {
            fail(3, sys::errno());
        }
        let mut first_err = sys::ENOENT;
        for c in &cands {
            let e = sys::do_execve(c, &argv, &envp);
            // Like execvp: remember a "found but cannot run" error over "not found".
            if e != sys::ENOENT && e != sys::ENOTDIR {
                first_err = e;
                if cands.len() == 1 || e != sys::EACCES {
                    break;
                }
            }
        }
        fail(4, first_err);
    }
    io.close_child();
    sys::do_close(st_w);
    let mut msg = [0u8; 5];
    let mut got = 0;
    while got < 5 {
        match sys::do_read(st_r, &mut msg[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.raw_os_error() == Some(sys::EINTR) => {}
            Err(_) => break,
        }
    }
    sys::do_close(st_r);
    if got == 0 {
        for fd in [io.out_r, io.err_r, io.in_w] {
            if fd >= 0 {
                sys::set_nonblock(fd);
            }
        }
        if !s.tty {
            // Bigger pipes: fewer context switches between the workload and init on one vCPU.
            sys::set_pipe_size(io.out_r, PIPE_SIZE);
            sys::set_pipe_size(io.err_r, PIPE_SIZE);
            if io.in_w >= 0 {
                sys::set_pipe_size(io.in_w, PIPE_SIZE);
            }
        }
        return Ok(Started { pid, stdout: io.out_r, stderr: io.err_r, stdin: io.in_w, tty: io.master });
    }
    // The child failed before exec and exits 127; the caller reaps it.
    io.close_ours();
    let err = i32::from_ne_bytes(msg[1..5].try_into().unwrap());
    let os = std::io::Error::from_raw_os_error(err);
    let argv0 = &s.argv[0];
    Err(match msg[0] {
        1 => Failure::setup(format!("cannot set up the standard streams: {os}")),
        2 => Failure::setup(format!("cannot switch to user {:?} (uid {}, gid {}): {os}", s.user, user.uid, user.gid)),
        3 => Failure { code: 126, message: format!("cannot enter the working directory {}: {os}", s.workdir) },
        _ if err == sys::ENOENT || err == sys::ENOTDIR => Failure {
            code: 127,
            message: if argv0.contains('/') {
                format!("exec: {argv0:?}: stat {argv0}: no such file or directory")
            } else {
                format!("exec: {argv0:?}: executable file not found in $PATH")
            },
        },
        _ => Failure { code: 126, message: format!("exec: {argv0:?}: {}", permission_text(err, argv0, &os)) },
    })
}

fn permission_text(err: i32, argv0: &str, os: &std::io::Error) -> String {
    match err {
        sys::EACCES => {
            let mode = std::fs::metadata(argv0).map(|m| m.permissions().mode() & 0o777).ok();
            match mode {
                Some(m) => format!("permission denied (mode {m:o})"),
                None => "permission denied".into(),
            }
        }
        sys::ENOEXEC => "exec format error (not an executable, or a script without #!)".into(),
        sys::EISDIR => "is a directory".into(),
        _ => os.to_string(),
    }
}

/// Output buffered in the kernel per stream; counts towards what the workload can write while the host is gone.
pub const PIPE_SIZE: i32 = 256 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_candidates_follow_the_workload_path() {
        let env = vec!["PATH=/opt/bin::/bin".to_string()];
        assert_eq!(candidates("ls", &env), vec!["/opt/bin/ls", "./ls", "/bin/ls"]);
        assert_eq!(candidates("./x", &env), vec!["./x"]);
        assert_eq!(candidates("sh", &[]).len(), 6);
    }
}
