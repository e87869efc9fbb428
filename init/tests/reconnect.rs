//! The host goes away mid-stream and comes back: exactly-once delivery, back-pressure, drop mode.
mod common;

use common::*;
use std::time::{Duration, Instant};

fn progress(console: &str) -> usize {
    console.lines().filter(|l| l.starts_with("progress ")).count()
}

fn sha256_hex(data: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}

/// 1 MiB of random bytes in 16 KiB chunks; the guest prints its own sha256 of what it wrote on stderr and
/// reports each chunk on the console (outside the log path), so the host can see whether it is blocked.
const GENERATOR: &str =
    "i=0; while [ $i -lt 64 ]; do dd if=/dev/urandom bs=16384 count=1 2>/dev/null | tee -a /tmp/all; \
                         echo progress $i > /dev/console; i=$((i+1)); done; sha256sum /tmp/all | cut -d' ' -f1 >&2";

#[test]
fn host_disconnect_and_reconnect_delivers_every_byte_exactly_once_and_blocks_meanwhile() {
    let _g = vm_lock();
    let dir = work_dir("reconnect");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let cfg = RunConfig::sh(GENERATOR).log("block", 65536, 10000);
    let vm = Vm::start(&dir, VmOptions::new(cfg.to_json(), image, Some(rw)));
    let host = vm.host.clone();
    host.wait_for(Duration::from_secs(60), "200 KiB of output", |s| s.stream(1).len() >= 200 * 1024);
    host.lock().logs_offline = true;
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    let p1 = progress(&vm.console());
    std::thread::sleep(Duration::from_millis(2500));
    let p2 = progress(&vm.console());
    let received_while_offline = host.lock().stream(1).len();
    assert!(p1 < 64, "the workload finished although the host was gone (not blocked): {p1} chunks");
    assert_eq!(p1, p2, "the workload kept writing for {:?} with the host gone: its output must block", t0.elapsed());
    host.lock().logs_offline = false;
    let out = vm.wait(Duration::from_secs(120));
    assert_eq!(out.code(), 0, "{}", out.console);
    let g = host.lock();
    assert!(g.gaps.is_empty(), "{:?}", g.gaps);
    assert!(g.log_connections >= 2, "the guest never reconnected");
    let data = g.stream(1);
    assert_eq!(
        data.len(),
        64 * 16384,
        "received {} bytes (had {received_while_offline} before the reconnect)",
        data.len()
    );
    let guest_sha = g.stream_text(2);
    assert_eq!(sha256_hex(&data), guest_sha.trim(), "stream differs from what the guest wrote");
    // every reconnect starts with a HELLO on the logs channel
    assert!(g.hellos.iter().filter(|h| h.0 == 1).count() >= 2);
    let seqs: Vec<u64> = g.logs.iter().map(|r| r.seq).collect();
    assert!(seqs.iter().enumerate().all(|(i, &s)| s == i as u64 + 1));
}

#[test]
fn drop_mode_keeps_the_workload_running_and_counts_what_it_dropped() {
    let _g = vm_lock();
    let dir = work_dir("dropmode");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let cfg = RunConfig::sh(GENERATOR).log("drop", 65536, 10000);
    // The host is down from the start: nothing can be acknowledged, the buffer fills, the rest is dropped.
    let vm = Vm::start(&dir, VmOptions { logs_offline: true, ..VmOptions::new(cfg.to_json(), image, Some(rw)) });
    let host = vm.host.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !vm.console().contains("INFERNO-EXIT") {
        assert!(
            Instant::now() < deadline,
            "the workload did not finish with the host gone in drop mode:\n{}",
            vm.console()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(progress(&vm.console()), 64);
    host.lock().logs_offline = false;
    let out = vm.wait(Duration::from_secs(60));
    assert_eq!(out.code(), 0);
    let g = host.lock();
    let init = g.stream_text(3);
    let dropped: usize = init
        .lines()
        .filter_map(|l| {
            l.strip_prefix("inferno-init: dropped ")?.strip_suffix(" bytes of output")?.parse::<usize>().ok()
        })
        .sum();
    let kept = g.stream(1).len() + g.stream(2).len();
    assert!(dropped > 0, "nothing reported dropped: {init:?}");
    assert!(kept <= 65536, "more than the buffer survived: {kept}");
    assert_eq!(kept + dropped, 64 * 16384 + 65, "kept {kept} + dropped {dropped}");
}

#[test]
fn the_exit_report_is_resent_when_the_exit_listener_comes_back() {
    let _g = vm_lock();
    let dir = work_dir("exit-reconnect");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let cfg = RunConfig::sh("echo done; exit 4").log("block", 65536, 20000);
    let opts = VmOptions::new(cfg.to_json(), image, Some(rw));
    let vm = Vm::start(&dir, opts);
    let host = vm.host.clone();
    host.lock().exit_offline = true;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !vm.console().contains("INFERNO-EXIT") {
        assert!(Instant::now() < deadline, "no exit:\n{}", vm.console());
        std::thread::sleep(Duration::from_millis(50));
    }
    // kiln comes back (its exit listener) while init is still waiting for EXIT_ACK
    std::thread::sleep(Duration::from_millis(500));
    let back = Instant::now();
    host.lock().exit_offline = false;
    let out = vm.wait(Duration::from_secs(60));
    assert_eq!(out.code(), 4);
    assert!(back.elapsed() < Duration::from_secs(10), "init did not finish promptly after the EXIT_ACK");
    assert!(!out.console.contains("drain timeout"), "{}", out.console);
    let g = host.lock();
    assert_eq!(g.exit_reports.len(), 1);
    assert!(g.hellos.iter().any(|h| h.0 == 2), "no HELLO on the exit channel");
    assert_eq!(g.stream_text(1), "done\n");
}
