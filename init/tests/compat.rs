//! The compat kernel (kernel/fragment, issue 12): what container workloads expect of the guest kernel, booted for
//! real (QEMU microvm, TCG) with init and a busybox image.
mod common;

use common::*;
use inferno_init::json;

#[test]
fn the_compat_kernel_has_what_container_workloads_use() {
    let _g = vm_lock();
    // arping opens its AF_PACKET socket first, then finds lo not ARPable (exit 2): without CONFIG_PACKET it
    // would fail on the socket ("Address family not supported by protocol")
    let script = "grep -c '^Seccomp:' /proc/self/status; \
                  unshare -n true && echo netns; unshare -p -f true && echo pidns; \
                  cat /sys/fs/cgroup/cgroup.controllers; \
                  grep -E ' /dev/(mqueue|shm) ' /proc/mounts | cut -d' ' -f2-4; \
                  arping -c 1 -w 1 -I lo 127.0.0.1; echo arping=$?";
    let (out, host, _) = boot("compat", &RunConfig::sh(script));
    let g = host.lock();
    assert_eq!(out.code(), 0, "{}", out.console);
    let text = g.stream_text(1);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("1"), "Seccomp: in /proc/self/status:\n{text}");
    assert_eq!(lines.next(), Some("netns"), "unshare -n:\n{text}\n{}", g.stream_text(2));
    assert_eq!(lines.next(), Some("pidns"), "unshare -p -f:\n{text}\n{}", g.stream_text(2));
    let controllers: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    assert!(controllers.contains(&"memory") && controllers.contains(&"pids"), "cgroup.controllers: {controllers:?}");
    // Docker's: mqueue nosuid,nodev,noexec; /dev/shm 64 MiB nosuid,nodev,noexec
    assert_eq!(lines.next(), Some("/dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k"));
    assert_eq!(lines.next(), Some("/dev/mqueue mqueue rw,nosuid,nodev,noexec,relatime"));
    assert_eq!(lines.next(), Some("arping=2"));
    assert!(g.stream_text(2).contains("arping: interface lo is not ARPable"), "{}", g.stream_text(2));
}

#[test]
fn metrics_count_the_guests_tasks_without_kernel_threads_and_its_cgroup_memory() {
    let _g = vm_lock();
    // init + sh + three background sleeps + the foreground one (the trailing echo keeps sh from exec'ing it)
    let cfg = RunConfig::sh("sleep 30 & sleep 30 & sleep 30 & sleep 2.5; echo done")
        .set("metrics_interval_secs", json::num(1));
    let (out, host, _) = boot("pids", &cfg);
    assert_eq!(out.code(), 0, "{}", out.console);
    let g = host.lock();
    let pids: Vec<u64> = g
        .metrics
        .iter()
        .map(|m| json::parse(m).unwrap().get("pids").and_then(json::Value::as_u64).expect("pids in METRICS"))
        .collect();
    assert!(pids.len() >= 2, "{pids:?}");
    assert_eq!(pids.iter().max(), Some(&6), "{pids:?}");
    // memcg: the root cgroup's memory (it has no memory.current: from memory.stat), at least the shell's pages
    let last = json::parse(g.metrics.last().unwrap()).unwrap();
    let cg = last.get("memory").and_then(|m| m.get("cgroup_current_bytes")).and_then(json::Value::as_u64).unwrap();
    assert!(cg > 100 << 10, "{last:?}");
}
