//! The archive, stat and top sessions (PROTOCOL.md §10): init checks the path, then forks a child (no exec) that
//! runs the work with its stdin/stdout/stderr on pipes, so a large copy never stalls init's loop. The work itself
//! is archive.rs, pathstat.rs and top.rs.

use crate::process::{Started, Stdio};
use crate::spec::Failure;
use crate::sys;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builtin {
    /// A tar of the path on stdout.
    ArchiveGet(String),
    /// A tar from stdin unpacked into the directory.
    ArchivePut(String),
    /// Docker's path stat JSON on stdout.
    Stat(String),
    /// Docker's top JSON on stdout.
    Top,
}

fn no_such(msg: String) -> Failure {
    Failure { code: 1, message: msg }
}

impl Builtin {
    /// What init checks before forking: a missing path ends the session at once (CLOSED code 1, no STARTED).
    pub fn check(&self) -> Result<(), Failure> {
        match self {
            Builtin::ArchiveGet(p) | Builtin::Stat(p) if std::fs::symlink_metadata(p).is_err() => {
                Err(no_such(format!("{p}: no such file or directory")))
            }
            Builtin::ArchivePut(p) if !std::fs::metadata(p).is_ok_and(|m| m.is_dir()) => {
                Err(no_such(format!("{p}: no such directory")))
            }
            _ => Ok(()),
        }
    }

    /// In the child.
    fn run(&self, input: &mut dyn Read, out: &mut dyn Write) -> Result<(), String> {
        match self {
            Builtin::ArchiveGet(p) => crate::archive::write_archive(p, out),
            Builtin::ArchivePut(p) => crate::archive::extract_archive(input, p),
            Builtin::Stat(p) => {
                let j = crate::pathstat::stat_json(p)?;
                out.write_all(j.as_bytes()).map_err(|e| e.to_string())
            }
            Builtin::Top => out.write_all(crate::top::top_json("/proc").as_bytes()).map_err(|e| e.to_string()),
        }
    }

    /// Forks the child: (its streams, no terminal, whether it reads stdin). It exits 0, or 1 with the error on
    /// stderr.
    pub fn spawn(&self) -> Result<(Started, bool, bool), Failure> {
        let reads = matches!(self, Builtin::ArchivePut(_));
        let stdio = Stdio::pipes(reads)?;
        let [in_r, out_w, err_w] = stdio.child;
        let (out_r, err_r, in_w) = (stdio.out_r, stdio.err_r, stdio.in_w);
        let pid = sys::do_fork();
        if let Ok(0) = pid {
            // Child. init is single-threaded, so the child may run ordinary Rust code.
            sys::do_setsid();
            sys::unblock_all_signals();
            for sig in 1..32 {
                if sig != sys::SIGKILL && sig != sys::SIGSTOP && sig != sys::SIGPIPE {
                    sys::default_signal(sig);
                }
            }
            let _ = std::fs::write("/proc/self/oom_score_adj", "0");
            for (fd, target) in [(in_r, 0), (out_w, 1), (err_w, 2)] {
                if sys::do_dup2(fd, target).is_err() {
                    sys::exit_now(1);
                }
            }
            // no exec here, so close-on-exec does nothing: every other fd of init (the other sessions' pipes,
            // this session's own stdin write end, the channels) is closed by hand, or EOFs would never come
            close_fds_from(3);
            // SAFETY: fds 0 and 1 were just set up and nothing else in this process uses them.
            let (mut input, output) = unsafe { (std::fs::File::from_raw_fd(0), std::fs::File::from_raw_fd(1)) };
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, output);
            let r = self.run(&mut input, &mut out).and_then(|_| out.flush().map_err(|e| e.to_string()));
            if let Err(e) = r {
                sys::write_all(2, format!("{e}\n").as_bytes());
                sys::exit_now(1);
            }
            sys::exit_now(0);
        }
        stdio.close_child();
        let pid = match pid {
            Ok(p) => p,
            Err(e) => {
                stdio.close_ours();
                return Err(Failure::setup(format!("fork: {e}")));
            }
        };
        for fd in [out_r, err_r, in_w] {
            if fd >= 0 {
                sys::set_nonblock(fd);
            }
        }
        Ok((Started { pid, stdout: out_r, stderr: err_r, stdin: in_w, tty: -1 }, false, reads))
    }
}

/// Closes every fd >= `first` of this process (the forked child's copies of init's descriptors).
fn close_fds_from(first: i32) {
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    for fd in fds.into_iter().filter(|&fd| fd >= first) {
        sys::do_close(fd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_paths_end_the_session_with_code_1_before_any_fork() {
        let e = Builtin::ArchiveGet("/no/such/thing".into()).check().unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (1, "/no/such/thing: no such file or directory"));
        let e = Builtin::Stat("/no/such/thing".into()).check().unwrap_err();
        assert_eq!(e.message, "/no/such/thing: no such file or directory");
        let e = Builtin::ArchivePut("/etc/passwd".into()).check().unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (1, "/etc/passwd: no such directory"));
        assert!(Builtin::ArchivePut("/tmp".into()).check().is_ok());
        assert!(Builtin::Top.check().is_ok());
    }
}
