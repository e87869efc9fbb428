//! Boots real guests (QEMU microvm, TCG) with init and a busybox ext4 image; see tests/common for the host side.
mod common;

use common::*;
use inferno_init::json::{self, Value};

#[test]
fn stdout_and_stderr_arrive_separately_in_order() {
    let _g = vm_lock();
    let (out, host, _) = boot(
        "order",
        &RunConfig::sh("echo out-1; sleep 0.1; echo err-1 >&2; sleep 0.1; echo out-2; sleep 0.1; echo err-2 >&2"),
    );
    let g = host.lock();
    assert_eq!(out.code(), 0, "console:\n{}", out.console);
    assert_eq!(g.stream_text(1), "out-1\nout-2\n");
    assert_eq!(g.stream_text(2), "err-1\nerr-2\n");
    let order: Vec<String> = g.logs.iter().filter(|r| r.stream != 3).map(|r| String::from_utf8_lossy(&r.data).into_owned()).collect();
    assert_eq!(order, vec!["out-1\n", "err-1\n", "out-2\n", "err-2\n"]);
    let seqs: Vec<u64> = g.logs.iter().map(|r| r.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1) && seqs[0] == 1, "seqs {seqs:?}");
    assert!(g.logs.windows(2).all(|w| w[1].time_ns >= w[0].time_ns));
    assert!(g.gaps.is_empty(), "{:?}", g.gaps);
    // HELLO on every channel that the guest talks on, with the vm id and one boot id
    for ch in [1u8, 2, 3] {
        assert!(g.hellos.iter().any(|h| h.0 == ch && h.2 == "9f86d081884c7d65"), "no HELLO on channel {ch}: {:?}", g.hellos);
    }
    let boot_ids: std::collections::HashSet<u64> = g.hellos.iter().map(|h| h.1).collect();
    assert_eq!(boot_ids.len(), 1);
    // the console line carries the same report
    assert_eq!(out.console_report(), out.exit);
    assert_eq!(out.exit.get("signal"), Some(&Value::Null));
    assert_eq!(out.exit.get("oom"), Some(&Value::Bool(false)));
    let started = out.exit.get("started_ns").unwrap().as_u64().unwrap();
    let finished = out.exit.get("finished_ns").unwrap().as_u64().unwrap();
    assert!(finished >= started + 300_000_000, "{started} {finished}");
    let _ = json::string("");
}
