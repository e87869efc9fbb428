//! The METRICS payload (docs/PROTOCOL.md §6), read from /proc and /sys.

use crate::json::{num, obj, Value};

/// USER_HZ is 100 on x86_64: one tick is 10 ms.
const MS_PER_TICK: u64 = 10;

pub fn parse_cpu(stat: &str) -> (u64, u64, u64) {
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else { return (0, 0, 0) };
    let f: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let g = |i: usize| f.get(i).copied().unwrap_or(0);
    // user + nice, system + irq + softirq, idle + iowait
    ((g(0) + g(1)) * MS_PER_TICK, (g(2) + g(5) + g(6)) * MS_PER_TICK, (g(3) + g(4)) * MS_PER_TICK)
}

pub fn parse_meminfo(text: &str) -> (u64, u64) {
    let get = |k: &str| {
        text.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (get("MemTotal:"), get("MemAvailable:"))
}

/// Sectors (512 bytes) read and written by whole virtio disks.
pub fn parse_diskstats(text: &str) -> (u64, u64) {
    let mut r = 0;
    let mut w = 0;
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() > 9 && f[2].starts_with("vd") && !f[2].chars().last().unwrap_or('a').is_ascii_digit() {
            r += f[5].parse::<u64>().unwrap_or(0) * 512;
            w += f[9].parse::<u64>().unwrap_or(0) * 512;
        }
    }
    (r, w)
}

pub fn parse_netdev(text: &str) -> (u64, u64) {
    let mut rx = 0;
    let mut tx = 0;
    for l in text.lines().skip(2) {
        let Some((name, rest)) = l.split_once(':') else { continue };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        rx += f.first().copied().unwrap_or(0);
        tx += f.get(8).copied().unwrap_or(0);
    }
    (rx, tx)
}

fn read(p: &str) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

pub fn collect(time_ns: u64, dropped: u64) -> Value {
    let (user, system, idle) = parse_cpu(&read("/proc/stat"));
    let (total, avail) = parse_meminfo(&read("/proc/meminfo"));
    let cg = read("/sys/fs/cgroup/memory.current").trim().parse::<u64>().unwrap_or(0);
    let (dr, dw) = parse_diskstats(&read("/proc/diskstats"));
    let (rx, tx) = parse_netdev(&read("/proc/net/dev"));
    obj(vec![
        ("time_ns", num(time_ns)),
        ("cpu", obj(vec![("user_ms", num(user)), ("system_ms", num(system)), ("idle_ms", num(idle))])),
        (
            "memory",
            obj(vec![("total_bytes", num(total)), ("available_bytes", num(avail)), ("cgroup_current_bytes", num(cg))]),
        ),
        ("disk", obj(vec![("read_bytes", num(dr)), ("write_bytes", num(dw))])),
        ("network", obj(vec![("rx_bytes", num(rx)), ("tx_bytes", num(tx))])),
        ("log_dropped_bytes", num(dropped)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        assert_eq!(parse_cpu("cpu  10 2 30 400 5 6 7 0 0 0\ncpu0 1 1 1 1\n"), (120, 430, 4050));
        assert_eq!(parse_meminfo("MemTotal:  1000 kB\nMemFree: 1 kB\nMemAvailable:  500 kB\n"), (1024000, 512000));
        let ds = " 254       0 vda 10 0 8 0 0 0 0 0 0 0 0\n 254       1 vda1 10 0 8 0 0 0 0 0 0 0 0\n 254      16 vdb 1 0 2 0 3 0 4 0 0 0 0\n";
        assert_eq!(parse_diskstats(ds), (10 * 512, 4 * 512));
        let nd = "Inter-|   Receive\n face |bytes packets\n    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n  eth0: 2000 3 0 0 0 0 0 0 3000 4 0 0 0 0 0 0\n";
        assert_eq!(parse_netdev(nd), (2000, 3000));
    }

    #[test]
    fn payload_has_the_protocol_shape() {
        let v = collect(5, 7);
        for k in ["time_ns", "cpu", "memory", "disk", "network", "log_dropped_bytes"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v.get("log_dropped_bytes").unwrap().as_u64(), Some(7));
        assert!(v.get("memory").unwrap().get("cgroup_current_bytes").is_some());
    }
}
