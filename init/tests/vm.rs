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
    let order: Vec<String> =
        g.logs.iter().filter(|r| r.stream != 3).map(|r| String::from_utf8_lossy(&r.data).into_owned()).collect();
    assert_eq!(order, vec!["out-1\n", "err-1\n", "out-2\n", "err-2\n"]);
    let seqs: Vec<u64> = g.logs.iter().map(|r| r.seq).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1) && seqs[0] == 1, "seqs {seqs:?}");
    assert!(g.logs.windows(2).all(|w| w[1].time_ns >= w[0].time_ns));
    assert!(g.gaps.is_empty(), "{:?}", g.gaps);
    // HELLO on every channel that the guest talks on, with the vm id and one boot id
    for ch in [1u8, 2, 3] {
        assert!(
            g.hellos.iter().any(|h| h.0 == ch && h.2 == "9f86d081884c7d65"),
            "no HELLO on channel {ch}: {:?}",
            g.hellos
        );
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

fn error_of(out: &Outcome) -> String {
    out.exit.get("error").and_then(Value::as_str).unwrap_or_default().to_string()
}

#[test]
fn exit_code_3_on_an_ephemeral_vm() {
    let _g = vm_lock();
    let cfg = RunConfig::sh("echo bye; exit 3").set("root", json::obj(vec![("writable_device", Value::Null)]));
    let dir = work_dir("exit3");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let vm = Vm::start(&dir, VmOptions::new(cfg.to_json(), image, None));
    let host = vm.host.clone();
    let out = vm.wait(std::time::Duration::from_secs(60));
    assert_eq!(out.code(), 3, "{}", out.console);
    assert_eq!(out.exit.get("signal"), Some(&Value::Null));
    assert_eq!(out.console_report().get("code").unwrap().as_i64(), Some(3));
    assert_eq!(host.lock().stream_text(1), "bye\n");
}

#[test]
fn command_not_found_is_127() {
    let _g = vm_lock();
    let (out, host, _) = boot("e127", &RunConfig::new(&["no-such-command", "arg"]));
    assert_eq!(out.code(), 127, "{}", out.console);
    let err = error_of(&out);
    assert!(err.contains("\"no-such-command\": executable file not found in $PATH"), "{err}");
    // said on the init stream and on the console too
    assert!(host.lock().stream_text(3).contains("executable file not found"));
    assert!(out.console.contains("executable file not found"));
    // a missing absolute path is 127 as well
    let (out, _, _) = boot("e127b", &RunConfig::new(&["/opt/missing"]));
    assert_eq!(out.code(), 127, "{}", out.console);
}

#[test]
fn not_executable_is_126() {
    let _g = vm_lock();
    let (out, _, _) = boot("e126", &RunConfig::new(&["/etc/motd"]));
    assert_eq!(out.code(), 126, "{}", out.console);
    assert!(error_of(&out).contains("permission denied"), "{}", error_of(&out));
}

#[test]
fn malformed_run_config_is_125_with_a_clear_error() {
    let _g = vm_lock();
    let dir = work_dir("e125");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let vm = Vm::start(
        &dir,
        VmOptions::new(r#"{"version":2,"vm_id":"x","process":{"argv":"echo"}"#.into(), image, Some(rw)),
    );
    let out = vm.wait(std::time::Duration::from_secs(60));
    assert_eq!(out.code(), 125);
    let err = error_of(&out);
    assert!(err.starts_with("invalid run config /inferno/run.json: not valid JSON"), "{err}");
    assert!(out.console.contains("inferno-init: error: invalid run config"), "{}", out.console);
    assert_eq!(out.console_report(), out.exit);
}

#[test]
fn no_command_and_unknown_user_are_125() {
    let _g = vm_lock();
    let (out, _, _) = boot("e125user", &RunConfig::new(&["/bin/true"]).process("user", json::string("ghost")));
    assert_eq!(out.code(), 125, "{}", out.console);
    assert!(error_of(&out).contains("unable to find user ghost"), "{}", error_of(&out));
}

#[test]
fn killed_by_a_signal_is_128_plus_n() {
    let _g = vm_lock();
    let (out, _, _) = boot("sig", &RunConfig::sh("echo dying; kill -9 $$"));
    assert_eq!(out.code(), 137, "{}", out.console);
    assert_eq!(out.exit.get("signal").and_then(Value::as_i64), Some(9));
}

#[test]
fn stop_request_lets_a_trap_handling_shell_exit_gracefully() {
    let _g = vm_lock();
    let dir = work_dir("stop");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let script =
        "trap 'echo got USR2' USR2; trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done";
    let vm = Vm::start(&dir, VmOptions::new(RunConfig::sh(script).to_json(), image, Some(rw)));
    let host = vm.host.clone();
    let t = std::time::Duration::from_secs(30);
    host.wait_for(t, "ready", |s| s.stream_text(1).contains("ready"));
    host.send_control(r#"{"op":"signal","signal":12}"#);
    host.wait_for(t, "USR2 handled", |s| s.stream_text(1).contains("got USR2"));
    host.send_control(r#"{"op":"frobnicate"}"#);
    host.send_control(r#"{"op":"stop"}"#);
    let out = vm.wait(std::time::Duration::from_secs(60));
    assert_eq!(out.code(), 0, "{}", out.console);
    let g = host.lock();
    assert_eq!(g.stream_text(1), "ready\ngot USR2\ngot TERM\n");
    assert_eq!(g.replies[0], r#"{"ok":true}"#);
    assert!(g.replies[1].starts_with(r#"{"ok":false,"error":"unknown op"#), "{:?}", g.replies);
    assert_eq!(g.replies[2], r#"{"ok":true}"#);
}

#[test]
fn leftover_process_ignoring_sigterm_is_killed_after_grace() {
    let _g = vm_lock();
    // the main shell waits until the leftover ignores TERM: else init's TERM may land before the trap (a race)
    let script = "sh -c 'trap \"\" TERM; touch /tmp/trapped; while true; do sleep 1; done' >/dev/null 2>&1 & \
                  while [ ! -e /tmp/trapped ]; do sleep 1; done; echo started; exit 0";
    let (out, _, _) = boot("grace", &RunConfig::sh(script));
    assert_eq!(out.code(), 0);
    assert!(out.console.contains("sending SIGKILL"), "{}", out.console);
    // the VM still powered off by itself (boot() fails otherwise), in bounded time
    assert!(out.elapsed < std::time::Duration::from_secs(30));
}

#[test]
fn orphans_are_reaped() {
    let _g = vm_lock();
    // The subshell exits at once: its background sleep is re-parented to init, which must reap it.
    // The orphan lives 3 s, long enough to be seen re-parented however slow the emulated CPU;
    // then up to 15 s for it to go (an unreaped zombie would keep its /proc entry).
    let script = "( sleep 3 & echo $! > /tmp/orphan ); o=$(cat /tmp/orphan); \
                  grep PPid /proc/$o/status; i=0; \
                  while [ -e /proc/$o ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done; \
                  if [ -e /proc/$o ]; then echo orphan-still-there; grep State /proc/$o/status; else echo orphan-gone; fi; \
                  echo zombies=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)";
    let (out, host, _) = boot("zombies", &RunConfig::sh(script));
    assert_eq!(out.code(), 0, "{}", out.console);
    let text = host.lock().stream_text(1);
    assert!(text.contains("PPid:\t1\n"), "the orphan was not re-parented to init: {text}");
    assert!(text.contains("orphan-gone\n"), "{text}");
    assert!(text.contains("zombies=0\n"), "{text}");
}

#[test]
fn env_workdir_and_user_by_name() {
    let _g = vm_lock();
    let cfg = RunConfig::sh(
        "id; pwd; echo FOO=$FOO EXTRA=$EXTRA HOME=$HOME HOSTNAME=$HOSTNAME; echo PATH=$PATH; ls -ld /work/dir",
    )
    // the host's merge of image Env [FOO=image, KEEP=1] and -e FOO=override -e EXTRA=yes; init adds HOME
    .process("env", strs(&["HOSTNAME=testvm", "FOO=override", "KEEP=1", "EXTRA=yes", DEFAULT_PATH]))
    .process("workdir", json::string("/work/dir"))
    .process("user", json::string("app"));
    let (out, host, _) = boot("user-name", &cfg);
    assert_eq!(out.code(), 0, "{}", out.console);
    let text = host.lock().stream_text(1);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "uid=1000(app) gid=1000(app) groups=50(staff),1000(app)", "{text}");
    assert_eq!(lines[1], "/work/dir");
    assert_eq!(lines[2], "FOO=override EXTRA=yes HOME=/home/app HOSTNAME=testvm");
    assert_eq!(lines[3], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    assert!(lines[4].starts_with("drwxr-xr-x") && lines[4].contains(" root "), "{text}");
}

#[test]
fn user_as_uid_gid_and_default_path() {
    let _g = vm_lock();
    let cfg = RunConfig::sh("id -u; id -g; echo HOME=$HOME; echo PATH=$PATH; touch /tmp/x && stat -c %u:%g /tmp/x")
        .process("user", json::string("1234:2345"));
    let (out, host, _) = boot("user-uid", &cfg);
    assert_eq!(out.code(), 0, "{}", out.console);
    assert_eq!(
        host.lock().stream_text(1),
        "1234\n2345\nHOME=/\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n1234:2345\n"
    );
}

#[test]
fn image_disk_stays_read_only_while_writes_and_deletes_land_in_the_overlay() {
    let _g = vm_lock();
    let dir = work_dir("overlay");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let before = sha256(&image);
    let script = "echo written > /etc/newfile; rm /etc/motd; mkdir -p /data/sub; echo deep > /data/sub/f; \
                  echo appended >> /etc/passwd; \
                  [ -e /etc/motd ] && echo motd-present || echo motd-deleted; cat /etc/newfile; \
                  grep ' / ' /proc/mounts | cut -d' ' -f1,3; echo vda-ro=$(cat /sys/block/vda/ro); \
                  dd if=/dev/zero of=/dev/vda bs=512 count=1 2>/dev/null && echo raw-write-ok || echo raw-write-refused";
    let vm = Vm::start(&dir, VmOptions::new(RunConfig::sh(script).to_json(), image.clone(), Some(rw.clone())));
    let host = vm.host.clone();
    let out = vm.wait(std::time::Duration::from_secs(60));
    assert_eq!(out.code(), 0, "{}", out.console);
    let text = host.lock().stream_text(1);
    assert_eq!(
        text,
        "motd-deleted\nwritten\noverlay overlay\nvda-ro=1\nraw-write-refused\n",
        "{}",
        host.lock().stream_text(2)
    );
    assert_eq!(sha256(&image), before, "the image disk changed");
    assert_eq!(debugfs_cat(&rw, "/upper/etc/newfile"), "written\n");
    assert_eq!(debugfs_cat(&rw, "/upper/data/sub/f"), "deep\n");
    assert!(debugfs_cat(&rw, "/upper/etc/passwd").ends_with("appended\n"));
    // the deletion is an overlayfs whiteout (a 0:0 character device) in the upper dir
    let st = debugfs_stat(&rw, "/upper/etc/motd");
    assert!(st.contains("Type: character special") && st.contains("Device major/minor number: 00:00"), "{st}");
    // and the image still has the original
    assert_eq!(debugfs_cat(&image, "/etc/motd"), "welcome\n");
    // init synced and remounted the writable disk read-only before rebooting: it is clean, nothing to replay
    let fsck = std::process::Command::new("e2fsck").args(["-fn"]).arg(&rw).output().unwrap();
    assert!(fsck.status.success(), "e2fsck: {}", String::from_utf8_lossy(&fsck.stdout));
    let hdr =
        String::from_utf8_lossy(&std::process::Command::new("dumpe2fs").arg("-h").arg(&rw).output().unwrap().stdout)
            .into_owned();
    assert!(hdr.lines().any(|l| l.starts_with("Filesystem state:") && l.ends_with("clean")), "{hdr}");
    assert!(!hdr.contains("needs_recovery"), "journal needs recovery: {hdr}");
}

#[test]
fn container_environment_mounts_hostname_and_metrics() {
    let _g = vm_lock();
    let script = "hostname; cat /etc/hosts | grep -c testvm; cat /etc/resolv.conf; \
                  grep -E ' /dev/pts | /dev/shm | /sys/fs/cgroup | /proc | /sys | /run ' /proc/mounts | cut -d' ' -f2,3 | sort; \
                  grep -o 'gid=5' /proc/mounts; stat -c %a /dev/shm /tmp; ulimit -n; readlink /dev/fd; \
                  cat /sys/class/net/lo/flags; grep 'db.internal' /etc/hosts; echo fds:; ls /proc/$$/fd; \
                  readlink /proc/$$/fd/0; sleep 2.5";
    let cfg = RunConfig::sh(script)
        .set("dns", json::obj(vec![("nameservers", strs(&["10.0.0.53"])), ("search", strs(&["corp.example"]))]))
        .set("hosts", strs(&["10.0.0.7 db.internal"]))
        .set("metrics_interval_secs", json::num(1));
    let (out, host, _) = boot("environment", &cfg);
    assert_eq!(out.code(), 0, "{}", out.console);
    let g = host.lock();
    let text = g.stream_text(1);
    let want = "testvm\n1\nnameserver 10.0.0.53\nsearch corp.example\n\
                /dev/pts devpts\n/dev/shm tmpfs\n/proc proc\n/run tmpfs\n/sys sysfs\n/sys/fs/cgroup cgroup2\n\
                gid=5\n1777\n1777\n1048576\n/proc/self/fd\n0x9\n10.0.0.7 db.internal\n\
                fds:\n0\n1\n2\n/dev/null\n";
    // (the fds prove init leaked none of its own — channels, signalfd, the O_PATH fd — into the workload)
    assert_eq!(text, want, "stderr: {}", g.stream_text(2));
    assert!(g.metrics.len() >= 2, "metrics: {:?}", g.metrics);
    let m = json::parse(&g.metrics[0]).unwrap();
    assert!(m.get("memory").unwrap().get("total_bytes").unwrap().as_u64().unwrap() > 100 << 20);
    assert!(m.get("cpu").unwrap().get("user_ms").is_some());
    assert_eq!(m.get("log_dropped_bytes").unwrap().as_u64(), Some(0));
    assert!(g.hellos.iter().any(|h| h.0 == 4), "no HELLO on the metrics channel");
}

#[test]
fn oom_kill_is_reported() {
    let _g = vm_lock();
    let dir = work_dir("oom");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    // The shell itself grows past the VM's memory; the kernel's OOM killer takes it.
    let cfg = RunConfig::sh("echo start; x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived");
    let vm = Vm::start(&dir, VmOptions { memory_mb: 64, ..VmOptions::new(cfg.to_json(), image, Some(rw)) });
    let host = vm.host.clone();
    // Under TCG the kernel thrashes (it evicts and re-reads busybox's pages) before its OOM killer acts: seen at
    // 50 s and past 90 s on the same machine. The wait bounds a hang, it times nothing.
    let out = vm.wait(std::time::Duration::from_secs(240));
    assert_eq!(out.exit.get("oom"), Some(&Value::Bool(true)), "{}", out.console);
    assert_eq!(out.code(), 137, "{}", out.console);
    assert!(!host.lock().stream_text(1).contains("survived"));
}

#[test]
fn sigint_to_init_sends_the_images_stop_signal() {
    let _g = vm_lock();
    // Ctrl-Alt-Del arrives at PID 1 as SIGINT (reboot(RB_DISABLE_CAD)); here the workload sends it itself.
    // The image's StopSignal (SIGUSR1) must reach the workload, not SIGINT/SIGTERM.
    let script = "trap 'echo got TERM; exit 1' TERM; trap 'echo got USR1; exit 0' USR1; kill -INT 1; \
                  i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; echo no-signal; exit 2";
    let (out, host, _) = boot("sigint", &RunConfig::sh(script).process("stop_signal", json::string("SIGUSR1")));
    assert_eq!(host.lock().stream_text(1), "got USR1\n", "{}", out.console);
    assert_eq!(out.code(), 0);
    assert!(out.console.contains("received signal 2"), "{}", out.console);
}

#[test]
fn with_no_host_at_all_the_vm_still_powers_off_and_the_console_has_the_report() {
    let _g = vm_lock();
    let dir = work_dir("nohost");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let cfg = RunConfig::sh("echo lost; exit 7").log("block", 65536, 1500);
    let opts = VmOptions { host_down: true, ..VmOptions::new(cfg.to_json(), image, Some(rw)) };
    let mut vm = Vm::start(&dir, opts);
    let (_, console) = vm.wait_poweroff(std::time::Duration::from_secs(60));
    let line = console.lines().find_map(|l| l.strip_prefix("INFERNO-EXIT ")).expect("INFERNO-EXIT line");
    assert_eq!(json::parse(line).unwrap().get("code").and_then(Value::as_i64), Some(7));
    assert!(console.contains("drain timeout (1500 ms): exit acknowledged: false"), "{console}");
    assert!(vm.host.lock().exit_reports.is_empty());
}

#[test]
fn the_writable_disk_keeps_the_containers_changes_across_boots() {
    let _g = vm_lock();
    let dir = work_dir("restart");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let run = |script: &str| {
        let opts = VmOptions::new(RunConfig::sh(script).to_json(), image.clone(), Some(rw.clone()));
        let vm = Vm::start(&dir, opts);
        let host = vm.host.clone();
        let out = vm.wait(std::time::Duration::from_secs(60));
        assert_eq!(out.code(), 0, "{}", out.console);
        let text = host.lock().stream_text(1);
        text
    };
    assert_eq!(run("echo first > /state; rm /etc/motd; cat /state"), "first\n");
    assert_eq!(run("cat /state; [ -e /etc/motd ] && echo motd || echo no-motd"), "first\nno-motd\n");
}
