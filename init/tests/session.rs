//! The session channel (PROTOCOL.md §10) with real guests: the main process's stdin and terminal, exec sessions,
//! credit, and the archive/stat/top sessions. See tests/common for the host side.
mod common;

use common::*;
use inferno_init::frame::Message;
use inferno_init::json::{self, Value};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(60);

fn start(name: &str, cfg: &RunConfig) -> Vm {
    let dir = work_dir(name);
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    Vm::start(&dir, VmOptions::new(cfg.to_json(), image, Some(rw)))
}

fn code(v: &Value) -> i64 {
    v.get("code").and_then(Value::as_i64).unwrap()
}

fn error(v: &Value) -> String {
    v.get("error").and_then(Value::as_str).unwrap_or_default().to_string()
}

fn data(session: u32, bytes: &[u8]) -> Message {
    Message::Data { session, stream: 0, data: bytes.to_vec() }
}

#[test]
fn main_stdin_is_a_pipe_fed_by_session_0_and_eof_ends_it() {
    let _g = vm_lock();
    let cfg = RunConfig::sh("cat; echo cat-done").process("stdin", Value::Bool(true));
    let vm = start("stdin-pipe", &cfg);
    let host = vm.host.clone();
    host.send_session(&data(0, b"hello\n"));
    host.send_session(&data(0, b"world\n"));
    host.wait_for(T, "the echo of stdin", |s| s.stream_text(1) == "hello\nworld\n");
    host.send_session(&Message::Eof { session: 0, stream: 0 });
    let out = vm.wait(T);
    assert_eq!(out.code(), 0, "{}", out.console);
    let g = host.lock();
    assert_eq!(g.stream_text(1), "hello\nworld\ncat-done\n");
    // every byte written to the pipe was granted again
    let granted: u32 = g
        .session
        .iter()
        .map(|m| match m {
            Message::Window { session: 0, stream: 0, bytes } => *bytes,
            _ => 0,
        })
        .sum();
    assert_eq!(granted, 12);
}

/// Pseudo-random bytes (xorshift), reproducible.
fn noise(n: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn ten_mib_of_stdin_reach_the_workload_intact_within_credit() {
    let _g = vm_lock();
    let cfg = RunConfig::sh("sha256sum | cut -d' ' -f1").process("stdin", Value::Bool(true));
    let vm = start("stdin-10m", &cfg);
    let host = vm.host.clone();
    let input = noise(10 << 20);
    std::fs::write(vm.dir.join("input"), &input).unwrap();
    let want = sha256(&vm.dir.join("input"));
    let t0 = Instant::now();
    host.send_stdin(0, &input);
    host.send_session(&Message::Eof { session: 0, stream: 0 });
    let out = vm.wait(T);
    eprintln!("10 MiB of stdin sent and consumed {:?} after the VM started booting", t0.elapsed());
    assert_eq!(out.code(), 0, "{}", out.console);
    assert_eq!(host.lock().stream_text(1), format!("{want}\n"));
}

#[test]
fn a_terminal_main_has_its_size_resizes_and_ctrl_c_interrupts_the_foreground() {
    let _g = vm_lock();
    let script = "stty size; tty; read x; echo got-$x; stty size; trap 'echo interrupted' INT; \
                  echo sleeping; sleep 20; echo after-sleep; exit 5";
    let cfg = RunConfig::sh(script)
        .process("tty", Value::Bool(true))
        .process("stdin", Value::Bool(true))
        .process("console_size", json::Value::Array(vec![json::num(50), json::num(132)]));
    let vm = start("tty-main", &cfg);
    let host = vm.host.clone();
    host.wait_for(T, "the first stty size", |s| s.stream_text(1).contains("50 132"));
    host.send_session(&Message::Resize { session: 0, rows: 40, cols: 100 });
    host.send_session(&data(0, b"go\n"));
    host.wait_for(T, "the second stty size", |s| s.stream_text(1).contains("40 100"));
    host.wait_for(T, "sleeping", |s| s.stream_text(1).contains("sleeping"));
    let t0 = Instant::now();
    // ^C reaches the line discipline as a byte; repeated in case it lands before sleep is forked
    while !host.lock().stream_text(1).contains("after-sleep") {
        assert!(t0.elapsed() < Duration::from_secs(15), "^C did not interrupt sleep: {}", host.lock().stream_text(1));
        host.send_session(&data(0, &[0x03]));
        std::thread::sleep(Duration::from_millis(500));
    }
    let out = vm.wait(T);
    assert_eq!(out.code(), 5, "the VM kept running after ^C and exited by itself: {}", out.console);
    let g = host.lock();
    let text = g.stream_text(1);
    // one stream: the terminal's output (with its \r\n) is stdout, nothing on stderr
    assert!(text.starts_with("50 132\r\n") && text.contains("/dev/pts/0\r\n"), "{text:?}");
    assert!(text.contains("got-go\r\n") && text.contains("interrupted\r\n"), "{text:?}");
    assert!(g.stream(2).is_empty());
}

#[test]
fn exec_sessions_beside_a_running_main() {
    let _g = vm_lock();
    // the main process logs a tick every 0.2 s until an exec creates /tmp/stop
    let main = "i=0; while [ ! -e /tmp/stop ]; do echo tick $i; i=$((i+1)); sleep 0.2; done; echo main-done";
    let vm = start("exec", &RunConfig::sh(main));
    let host = vm.host.clone();
    host.wait_for(T, "the first tick", |s| s.stream_text(1).contains("tick 0"));

    // exit code, both streams, and the order STARTED, output, EOFs, CLOSED
    let r = host.run_session(1, r#"{"kind":"exec","argv":["sh","-c","echo hi; echo oops >&2; exit 7"]}"#, T);
    assert_eq!(code(&r), 7, "{r:?}");
    assert_eq!(r.get("error"), Some(&Value::Null));
    {
        let g = host.lock();
        assert_eq!((g.session_text(1, 1).as_str(), g.session_text(1, 2).as_str()), ("hi\n", "oops\n"));
        let order = g.session_order(1);
        assert_eq!(order.first().map(String::as_str), Some("STARTED"), "{order:?}");
        assert_eq!(order.last().map(String::as_str), Some("CLOSED"), "{order:?}");
        for k in 1..=2 {
            let at = order.iter().position(|o| *o == format!("EOF{k}")).unwrap_or_else(|| panic!("{order:?}"));
            assert!(order[at + 1..].iter().all(|o| *o != format!("DATA{k}")), "DATA{k} after its EOF: {order:?}");
        }
    }

    // not found (127), not executable (126): CLOSED alone, with the texts of §6
    let r = host.run_session(2, r#"{"kind":"exec","argv":["no-such-binary"]}"#, T);
    assert_eq!(code(&r), 127);
    assert!(error(&r).contains("exec: \"no-such-binary\": executable file not found in $PATH"), "{r:?}");
    assert_eq!(host.lock().session_order(2), vec!["CLOSED"]);
    let r = host.run_session(3, r#"{"kind":"exec","argv":["/etc/motd"]}"#, T);
    assert_eq!(code(&r), 126, "{r:?}");
    let r = host.run_session(4, r#"{"kind":"exec","argv":["id"],"user":"ghost"}"#, T);
    assert_eq!(code(&r), 125);
    assert!(error(&r).contains("unable to find user ghost"), "{r:?}");

    // -u nobody, -w, -e: the user resolved as the main process's is, HOME from passwd, env as given
    let r = host.run_session(
        5,
        r#"{"kind":"exec","argv":["sh","-c","id -u; id -g; pwd; echo $FOO $HOME"],"user":"nobody","workdir":"/tmp",
            "env":["PATH=/usr/bin:/bin","FOO=bar"]}"#,
        T,
    );
    assert_eq!(code(&r), 0, "{r:?}");
    assert_eq!(host.lock().session_text(5, 1), "65534\n65534\n/tmp\nbar /nonexistent\n");

    // stdin with EOF
    host.send_session(&Message::Open { session: 6, json: r#"{"kind":"exec","argv":["cat"],"stdin":true}"#.into() });
    host.send_session(&data(6, b"piped "));
    host.send_session(&data(6, b"input\n"));
    host.send_session(&Message::Eof { session: 6, stream: 0 });
    assert_eq!(code(&host.wait_closed(6, T)), 0);
    assert_eq!(host.lock().session_text(6, 1), "piped input\n");

    // a terminal exec: its size, one stream
    let r = host.run_session(
        7,
        r#"{"kind":"exec","argv":["sh","-c","tty; stty size; readlink /dev/ptmx"],"tty":true,"console_size":[24,80]}"#,
        T,
    );
    assert_eq!(code(&r), 0);
    let text = host.lock().session_text(7, 1);
    assert!(text.starts_with("/dev/pts/") && text.ends_with("\r\n24 80\r\npts/ptmx\r\n"), "{text:?}");

    // SIGNAL ends a sleeping exec: 128+15
    host.send_session(&Message::Open { session: 8, json: r#"{"kind":"exec","argv":["sleep","100"]}"#.into() });
    host.wait_for(T, "STARTED 8", |s| s.session_order(8).first().is_some_and(|k| k == "STARTED"));
    host.send_session(&Message::Signal { session: 8, signal: 15 });
    let r = host.wait_closed(8, T);
    assert_eq!((code(&r), r.get("signal").and_then(Value::as_i64)), (143, Some(15)));

    // a stuck exec: the host grants no credit; it stops at exactly the initial credit while the main keeps
    // logging; once granted, the rest arrives
    host.lock().session_hold.insert(9);
    host.send_session(&Message::Open {
        session: 9,
        json:
            r#"{"kind":"exec","argv":["sh","-c","dd if=/dev/zero bs=65536 count=16 2>/dev/null; echo fed > /tmp/fed"]}"#
                .into(),
    });
    host.wait_for(T, "the initial credit of session 9", |s| s.session_data(9, 1).len() >= 262_144);
    let ticks = |s: &HostState| s.stream_text(1).matches("tick").count();
    let before = ticks(&host.lock());
    host.wait_for(T, "five more ticks of the main while session 9 is stuck", |s| ticks(s) >= before + 5);
    assert_eq!(host.lock().session_data(9, 1).len(), 262_144, "DATA beyond the credit");
    assert!(host.lock().closed(9).is_none());
    host.lock().session_hold.remove(&9);
    host.send_session(&Message::Window { session: 9, stream: 1, bytes: 1 << 20 });
    assert_eq!(code(&host.wait_closed(9, T)), 0);
    assert_eq!(host.lock().session_data(9, 1), vec![0u8; 1 << 20]);

    // a background process holding stdout open: CLOSED 2 s after the reap, not when it ends
    let t0 = Instant::now();
    let r = host.run_session(13, r#"{"kind":"exec","argv":["sh","-c","sleep 8 & echo bg"]}"#, T);
    let took = t0.elapsed();
    assert_eq!(code(&r), 0);
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(6), "CLOSED after {took:?}");
    assert_eq!(host.lock().session_text(13, 1), "bg\n");
    assert_eq!(host.lock().session_order(13), vec!["STARTED", "DATA1", "EOF1", "EOF2", "CLOSED"]);

    // five execs at once, each with its own streams and exit code
    for id in 14..19u32 {
        let script =
            format!("for i in 1 2 3 4 5 6; do echo s{id}-$i; echo e{id} >&2; sleep 0.05; done; exit {}", id - 10);
        host.send_session(&Message::Open {
            session: id,
            json: format!(r#"{{"kind":"exec","argv":["sh","-c","{script}"]}}"#),
        });
    }
    for id in 14..19u32 {
        assert_eq!(code(&host.wait_closed(id, T)), i64::from(id - 10));
        let want: String = (1..=6).map(|i| format!("s{id}-{i}\n")).collect();
        assert_eq!(host.lock().session_text(id, 1), want);
        assert_eq!(host.lock().session_text(id, 2), format!("e{id}\n").repeat(6));
    }

    // the session channel drops: its execs are killed (process group) and forgotten
    host.send_session(&Message::Open { session: 10, json: r#"{"kind":"exec","argv":["sleep","999"]}"#.into() });
    host.wait_for(T, "STARTED 10", |s| s.session_order(10).first().is_some_and(|k| k == "STARTED"));
    let pid = host
        .lock()
        .session
        .iter()
        .find_map(|m| match m {
            Message::Started { session: 10, pid } => Some(*pid),
            _ => None,
        })
        .unwrap();
    let hellos = |s: &HostState| s.hellos.iter().filter(|h| h.0 == 5).count();
    let before = hellos(&host.lock());
    host.lock().session_offline = true;
    std::thread::sleep(Duration::from_millis(1500));
    host.lock().session_offline = false;
    host.wait_for(T, "the session channel's reconnect", |s| hellos(s) > before);
    let probe = format!(r#"{{"kind":"exec","argv":["sh","-c","test -e /proc/{pid} && echo alive || echo gone"]}}"#);
    // new ids: the host never reuses one (the old frames of 1..10 are still in the record)
    assert_eq!(code(&host.run_session(11, &probe, T)), 0);
    assert_eq!(host.lock().session_text(11, 1), "gone\n");

    // the main ends when an exec tells it to
    assert_eq!(code(&host.run_session(12, r#"{"kind":"exec","argv":["touch","/tmp/stop"]}"#, T)), 0);
    let out = vm.wait(T);
    assert_eq!(out.code(), 0, "{}", out.console);
    assert!(host.lock().stream_text(1).ends_with("main-done\n"));
}

/// Runs `cmd` on this machine in `dir`; its stdout.
fn host_cmd(dir: &std::path::Path, cmd: &str) -> String {
    let out = std::process::Command::new("sh").arg("-c").arg(cmd).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn archive_stat_and_top_sessions_then_execs_end_with_the_main_process() {
    let _g = vm_lock();
    let vm = start("builtin", &RunConfig::sh("echo up; while [ ! -e /tmp/go ]; do sleep 0.1; done"));
    let host = vm.host.clone();
    let work = vm.dir.clone();
    let make = "mkdir -p /srv/tree/sub && echo alpha > /srv/tree/a && chmod 4751 /srv/tree/a && \
                chmod 750 /srv/tree/sub && ln -s a /srv/tree/link && mkdir /srv/put";
    let r = host.run_session(1, &format!(r#"{{"kind":"exec","argv":["sh","-c","{make}"]}}"#), T);
    assert_eq!(code(&r), 0, "{r:?}");

    // archive-get: a tar of the tree, read back by GNU tar on this side
    let r = host.run_session(2, r#"{"kind":"archive-get","path":"/srv/tree"}"#, T);
    assert_eq!(code(&r), 0, "{r:?} {}", host.lock().session_text(2, 2));
    std::fs::write(work.join("tree.tar"), host.lock().session_data(2, 1)).unwrap();
    let listing = host_cmd(&work, "tar -tvf tree.tar | awk '{print $1, $6, $7, $8}' | sort");
    // (a symlink's own mode bits mean nothing on Linux: only its type and target are checked)
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines[..3], ["-rwsr-x--x tree/a  ", "drwxr-x--- tree/sub/  ", "drwxr-xr-x tree/  "], "{listing}");
    assert!(lines[3].starts_with('l') && lines[3].ends_with(" tree/link -> a"), "{listing}");
    std::fs::create_dir_all(work.join("out")).unwrap();
    host_cmd(&work, "tar -xf tree.tar -C out");
    assert_eq!(std::fs::read_to_string(work.join("out/tree/a")).unwrap(), "alpha\n");

    // a missing path: CLOSED code 1 alone
    let r = host.run_session(3, r#"{"kind":"archive-get","path":"/nope"}"#, T);
    assert_eq!((code(&r), error(&r).as_str()), (1, "/nope: no such file or directory"));
    assert_eq!(host.lock().session_order(3), vec!["CLOSED"]);

    // archive-put: a tar made here, unpacked in the guest
    std::fs::create_dir_all(work.join("in/d")).unwrap();
    std::fs::write(work.join("in/d/f"), "from the host\n").unwrap();
    host_cmd(&work, "chmod 0640 in/d/f && tar -cf in.tar -C in d");
    let tar = std::fs::read(work.join("in.tar")).unwrap();
    host.send_session(&Message::Open { session: 4, json: r#"{"kind":"archive-put","path":"/srv/put"}"#.into() });
    for chunk in tar.chunks(60_000) {
        host.send_session(&data(4, chunk));
    }
    host.send_session(&Message::Eof { session: 4, stream: 0 });
    let r = host.wait_closed(4, T);
    assert_eq!(code(&r), 0, "{r:?} {}", host.lock().session_text(4, 2));
    let r = host.run_session(5, r#"{"kind":"exec","argv":["sh","-c","cat /srv/put/d/f; stat -c %a /srv/put/d/f"]}"#, T);
    assert_eq!(code(&r), 0);
    assert_eq!(host.lock().session_text(5, 1), "from the host\n640\n");
    let r = host.run_session(6, r#"{"kind":"archive-put","path":"/srv/tree/a"}"#, T);
    assert_eq!((code(&r), error(&r).as_str()), (1, "/srv/tree/a: no such directory"));

    // stat and top: one JSON object each
    assert_eq!(code(&host.run_session(7, r#"{"kind":"stat","path":"/srv/tree/link"}"#, T)), 0);
    let st = json::parse(&host.lock().session_text(7, 1)).unwrap();
    assert_eq!(st.get("name").and_then(Value::as_str), Some("link"));
    assert_eq!(st.get("linkTarget").and_then(Value::as_str), Some("/srv/tree/a"), "{st:?}");
    assert_eq!(code(&host.run_session(8, r#"{"kind":"top"}"#, T)), 0);
    let top = json::parse(&host.lock().session_text(8, 1)).unwrap();
    assert!(top.get("Titles").and_then(Value::as_array).is_some_and(|t| t.len() == 8), "{top:?}");
    let cmds: Vec<String> = top
        .get("Processes")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|p| p.as_array().unwrap().last().unwrap().as_str().unwrap().to_string())
        .collect();
    assert!(cmds.iter().any(|c| c.starts_with("/bin/sh -c echo up")), "{cmds:?}");
    // the VM's processes, as docker top lists a container's: init stays, kernel threads and the asking child go
    assert_eq!(cmds.iter().filter(|c| c.as_str() == "/inferno/init").count(), 1, "{cmds:?}");
    assert!(!cmds.iter().any(|c| c.starts_with('[')), "{cmds:?}");

    // an exec still running when the main process exits ends with the rest, and gets its CLOSED
    host.send_session(&Message::Open { session: 9, json: r#"{"kind":"exec","argv":["sleep","100"]}"#.into() });
    host.wait_for(T, "STARTED 9", |s| s.session_order(9).first().is_some_and(|k| k == "STARTED"));
    assert_eq!(code(&host.run_session(10, r#"{"kind":"exec","argv":["touch","/tmp/go"]}"#, T)), 0);
    let out = vm.wait(T);
    assert_eq!(out.code(), 0, "{}", out.console);
    let r = host.lock().closed(9).expect("CLOSED for the exec that init's shutdown ended");
    assert_eq!((code(&r), r.get("signal").and_then(Value::as_i64)), (143, Some(15)));
}
