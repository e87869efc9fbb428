//! init's rtnetlink setup on a real kernel, without a VM: a network namespace stands in for the guest, with
//! one end of a veth pair as its eth0. The test re-runs this binary inside the namespace (`ip netns exec`) to
//! call netlink::configure there, then checks the result from outside and that the host side answers.
//! Needs root (it creates a namespace and links); everything it makes is removed, also on failure.
//! The same child runs inside a real QEMU guest on a virtio-net device backed by a TAP.
mod common;

use common::*;
use inferno_init::{json, netlink};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "INFERNO_NETLINK_TEST";

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("ip (iproute2) is not installed");
    assert!(out.status.success(), "ip {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The namespace and the host end of the veth pair; Drop removes both (the peer goes with the namespace).
struct Netns {
    name: String,
    host_link: String,
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.host_link]).output();
        if !self.name.is_empty() {
            let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
        }
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// Runs `netlink_child` inside the namespace with `args`; returns (success, stdout + stderr).
fn in_netns(ns: &str, args: &str) -> (bool, String) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(exe)
        .args(["--exact", "netlink_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, args)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn netlink_configures_eth0_in_a_network_namespace() {
    if !is_root() {
        eprintln!("skipped: creating a network namespace needs root");
        return;
    }
    let tag = format!("{:05x}", (std::process::id() ^ Instant::now().elapsed().subsec_nanos()) & 0xfffff);
    let ns = Netns { name: format!("itst{tag}"), host_link: format!("itst{tag}h") };
    // 198.18.0.0/15 is the benchmarking range: no real network uses it
    let third = (std::process::id() % 250) as u8;
    let (host, guest) = (format!("198.18.{third}.1"), format!("198.18.{third}.2"));
    ip(&["netns", "add", &ns.name]);
    ip(&["link", "add", &ns.host_link, "type", "veth", "peer", "name", "eth0", "netns", &ns.name]);
    ip(&["addr", "add", &format!("{host}/30"), "dev", &ns.host_link]);
    ip(&["link", "set", &ns.host_link, "up"]);
    let listener = TcpListener::bind((host.as_str(), 0)).unwrap();
    let port = listener.local_addr().unwrap().port();

    // before: everything down, no address
    assert!(!ip(&["-n", &ns.name, "link", "show", "dev", "eth0"]).contains(",UP"));

    let (ok, out) = in_netns(&ns.name, &format!("eth0 {guest}/30 {host} 1400 {port}"));
    assert!(ok, "configure inside the namespace failed:\n{out}");

    let eth0 = ip(&["-n", &ns.name, "link", "show", "dev", "eth0"]);
    assert!(eth0.contains(",UP") && eth0.contains("mtu 1400"), "{eth0}");
    let lo = ip(&["-n", &ns.name, "link", "show", "dev", "lo"]);
    assert!(lo.contains(",UP"), "{lo}");
    let addr = ip(&["-n", &ns.name, "-o", "-4", "addr", "show", "dev", "eth0"]);
    assert!(addr.contains(&format!("inet {guest}/30")), "{addr}");
    let route = ip(&["-n", &ns.name, "route", "show", "default"]);
    assert!(route.contains(&format!("default via {host} dev eth0")), "{route}");
    // IPv6 link-local comes from the kernel once eth0 is up
    let v6 = ip(&["-n", &ns.name, "-o", "-6", "addr", "show", "dev", "eth0"]);
    assert!(v6.contains("inet6 fe80::"), "{v6}");

    // the child connected to the host side over the new link and said hello
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut conn, peer) = loop {
        match listener.accept() {
            Ok(c) => break c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("the namespace never connected to {host}:{port}: {e}"),
        }
    };
    assert_eq!(peer.ip().to_string(), guest);
    conn.set_nonblocking(false).unwrap();
    let mut hello = String::new();
    conn.read_to_string(&mut hello).unwrap();
    assert_eq!(hello, "hello from the guest side");

    // a second configure fails at the address, and says so
    let (ok, out) = in_netns(&ns.name, &format!("eth0 {guest}/30 {host} 1400 0"));
    assert!(!ok);
    assert!(out.contains(&format!("cannot add address {guest}/30 to eth0: File exists")), "{out}");
    // an interface that is not there
    let (ok, out) = in_netns(&ns.name, &format!("nope0 {guest}/30 {host} 1400 0"));
    assert!(!ok);
    assert!(out.contains("no network interface nope0: No such device"), "{out}");
}

#[test]
fn netlink_configures_eth0_of_a_qemu_guest_over_a_tap() {
    if !is_root() {
        eprintln!("skipped: creating a TAP device needs root");
        return;
    }
    let _l = vm_lock();
    let (host, guest, tap) = guest_tap('g', 1);
    let (port, server) = host_listener(&host);

    let dir = work_dir("netlink-guest");
    let b = ImageBuilder::busybox(&dir);
    // this very test binary (static, like init) runs netlink_child inside the guest
    std::fs::copy(std::env::current_exe().unwrap(), dir.join("rootfs/bin/netlink-test")).unwrap();
    let image = b.build(&dir.join("image.ext4"), "48M");
    let rw = empty_ext4(&dir.join("rw.ext4"), "32M");
    let cfg = RunConfig::sh(&format!(
        "{CHILD_ENV}='eth0 {guest}/30 {host} 1500 {port}' /bin/netlink-test --exact netlink_child --ignored \
         --nocapture --test-threads=1 && cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu"
    ));
    let mut o = VmOptions::new(cfg.to_json(), image, Some(rw));
    o.extra_args = nic_args(&tap.host_link, "02:9f:9f:51:11:f7");
    let started = Instant::now();
    let vm = Vm::start(&dir, o);
    let h = vm.host.clone();
    let out = vm.wait(Duration::from_secs(120));
    let stdout = h.lock().stream_text(1);
    let stderr = h.lock().stream_text(2);
    assert_eq!(out.code(), 0, "stdout:\n{stdout}\nstderr:\n{stderr}\nconsole:\n{}", out.console);
    assert!(stdout.contains("test netlink_child ... ok"), "{stdout}");
    assert!(stdout.ends_with("02:9f:9f:51:11:f7\n1500\n"), "{stdout}");
    let (peer, said) = server.join().unwrap();
    assert_eq!(peer, guest);
    assert_eq!(said, "hello from the guest side");
    eprintln!("guest network round trip in {:?}", started.elapsed());
}

/// A TAP for one guest test (`itst` + `kind` + this process's tag) with the host side at 198.19.N.`host_last`/30;
/// (host address, guest address = host + 1, the TAP, removed when it drops).
fn guest_tap(kind: char, host_last: u8) -> (String, String, Netns) {
    let tag = format!("{:05x}", std::process::id() & 0xfffff);
    let third = (std::process::id() % 250) as u8;
    let (host, guest) = (format!("198.19.{third}.{host_last}"), format!("198.19.{third}.{}", host_last + 1));
    let tap = make_tap(&format!("itst{kind}{tag}"), &host);
    (host, guest, tap)
}

/// A TCP listener on the host side of a TAP; the thread returns (peer address, what the peer sent).
fn host_listener(host: &str) -> (u16, std::thread::JoinHandle<(String, String)>) {
    let listener = TcpListener::bind((host, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut c, peer) = listener.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut said = String::new();
        c.read_to_string(&mut said).unwrap();
        (peer.ip().to_string(), said)
    });
    (port, server)
}

/// A TAP with `host`/30 on it, up; removed when the returned value drops.
fn make_tap(name: &str, host: &str) -> Netns {
    let tap = Netns { name: String::new(), host_link: name.to_string() };
    let script =
        format!("tuntap add name {name} mode tap\naddr add {host}/30 dev {name}\nlink set {name} mtu 1500 up\n");
    let mut ipb = Command::new("ip").args(["-batch", "-"]).stdin(std::process::Stdio::piped()).spawn().unwrap();
    ipb.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    assert!(ipb.wait().unwrap().success(), "cannot create the TAP {name}");
    tap
}

/// QEMU's arguments for a virtio-net device on `tap` (what kiln's QEMU driver gives a VmSpec's Nic).
fn nic_args(tap: &str, mac: &str) -> Vec<String> {
    vec![
        "-netdev".into(),
        format!("tap,id=net0,ifname={tap},script=no,downscript=no"),
        "-device".into(),
        format!("virtio-net-device,netdev=net0,mac={mac}"),
    ]
}

fn network(mac: &str, address: &str, gateway: &str, mtu: u64) -> json::Value {
    json::obj(vec![
        ("mac", json::string(mac)),
        ("address", json::string(address)),
        ("gateway", json::string(gateway)),
        ("mtu", json::num(mtu)),
    ])
}

/// The real init, as PID 1, configures the NIC from run.json's `network` before the workload starts: the
/// workload (busybox) finds eth0 up with the address, MTU and default route, /etc/hosts names the guest
/// address, and a TCP connection reaches a listener on the host side of the TAP.
#[test]
fn init_configures_eth0_from_the_run_config_and_reaches_the_host() {
    if !is_root() {
        eprintln!("skipped: creating a TAP device needs root");
        return;
    }
    let _l = vm_lock();
    let (host, guest, tap) = guest_tap('r', 5);
    let (port, server) = host_listener(&host);
    let mac = "02:42:c6:13:00:06";
    let cfg = RunConfig::sh(&format!(
        "cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address; ls /sys/class/net; ip -4 addr show dev eth0; \
         ip route; grep testvm /etc/hosts; cat /etc/hostname; \
         for i in 1 2 3 4 5; do grep -q eth0 /proc/net/if_inet6 && break; sleep 1; done; \
         ip -6 addr show dev eth0 | grep -o 'inet6 fe80::[^ ]*'; \
         echo hello from init | nc {host} {port}"
    ))
    .set("network", network(mac, &format!("{guest}/30"), &host, 1400))
    .set("root", json::obj(vec![("writable_device", json::Value::Null)]));
    let dir = work_dir("init-net");
    let image = ImageBuilder::busybox(&dir).build(&dir.join("image.ext4"), "16M");
    let mut o = VmOptions::new(cfg.to_json(), image, None);
    o.extra_args = nic_args(&tap.host_link, mac);
    let vm = Vm::start(&dir, o);
    let h = vm.host.clone();
    let out = vm.wait(Duration::from_secs(120));
    let stdout = h.lock().stream_text(1);
    assert_eq!(out.code(), 0, "stdout:\n{stdout}\nconsole:\n{}", out.console);
    assert!(stdout.starts_with(&format!("1400\n{mac}\n")), "{stdout}");
    assert!(stdout.contains("eth0\nlo\n"), "{stdout}");
    assert!(stdout.contains(&format!("inet {guest}/30")), "{stdout}");
    assert!(stdout.contains(&format!("default via {host} dev eth0")), "{stdout}");
    assert!(stdout.contains(&format!("{guest}\ttestvm\n")), "/etc/hosts: {stdout}");
    assert!(stdout.contains(&format!("{guest}\ttestvm\ntestvm\n")), "/etc/hosts, then /etc/hostname: {stdout}");
    // IPv6: the kernel gives eth0 its link-local address once it is up (the loop above waits for it)
    assert!(stdout.contains("inet6 fe80::"), "{stdout}");
    assert!(out.console.contains(&format!("network: {guest}/30 via {host} (mtu 1400, mac {mac})")), "{}", out.console);
    let (peer, said) = server.join().unwrap();
    assert_eq!((peer.as_str(), said.as_str()), (guest.as_str(), "hello from init\n"));
}

/// `--network none`: no NIC and no `network` in run.json; the guest has only `lo`, up, besides the kernel's own
/// tunnel devices (sit0 with CONFIG_IPV6_SIT), which no device backs.
#[test]
fn without_a_network_the_guest_has_only_lo() {
    let _l = vm_lock();
    let (out, h, _) = boot(
        "init-nonet",
        &RunConfig::sh(
            "for i in /sys/class/net/*; do [ -e $i/device ] && echo nic ${i##*/}; done; \
             ls /sys/class/net | grep -v '^sit0$'; cat /sys/class/net/lo/flags; grep testvm /etc/hosts; \
             ping -c1 -W2 127.0.0.1 >/dev/null && echo lo answers",
        ),
    );
    let stdout = h.lock().stream_text(1);
    assert_eq!(out.code(), 0, "stdout:\n{stdout}\nconsole:\n{}", out.console);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("lo"), "no NIC, only lo: {stdout}");
    let flags = u32::from_str_radix(lines.next().unwrap().trim().trim_start_matches("0x"), 16).unwrap();
    assert_eq!(flags & 1, 1, "lo is up (IFF_UP): {stdout}");
    assert_eq!(lines.next(), Some("127.0.1.1\ttestvm"), "{stdout}");
    assert_eq!(lines.next(), Some("lo answers"), "{stdout}");
}

/// A run config with a network but a VM without the NIC: init says which MAC it looked for and ends the VM
/// with 125 before the workload runs.
#[test]
fn a_missing_nic_is_125_with_the_mac_in_the_error() {
    let _l = vm_lock();
    let cfg = RunConfig::sh("echo workload ran")
        .set("network", network("02:42:c6:13:00:0a", "198.19.0.10/30", "198.19.0.9", 1500));
    let (out, h, _) = boot("init-nonic", &cfg);
    assert_eq!(out.code(), 125, "{}", out.console);
    let err = out.exit.get("error").and_then(json::Value::as_str).unwrap_or_default().to_string();
    assert!(
        err.starts_with(
            "cannot configure eth0 (02:42:c6:13:00:0a): no network interface has that MAC (the guest has lo"
        ),
        "{err}"
    );
    assert!(!h.lock().stream_text(1).contains("workload ran"));
}

/// Runs inside the namespace or the guest on behalf of the tests above (ignored otherwise): configure, then say hello to
/// the host side when given a port.
#[test]
#[ignore]
fn netlink_child() {
    let args = std::env::var(CHILD_ENV).expect("run by netlink_configures_eth0_in_a_network_namespace");
    let a: Vec<&str> = args.split(' ').collect();
    let mtu: u32 = a[3].parse().unwrap();
    if let Err(e) = netlink::configure(a[0], a[1], a[2], mtu) {
        panic!("{e}");
    }
    let port: u16 = a[4].parse().unwrap();
    if port != 0 {
        let mut s = TcpStream::connect_timeout(&format!("{}:{port}", a[2]).parse().unwrap(), Duration::from_secs(5))
            .expect("connect to the host side");
        s.write_all(b"hello from the guest side").unwrap();
    }
}
