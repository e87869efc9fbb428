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

/// `memory.cgroup_current_bytes`: the root cgroup has no memory.current (the kernel leaves it out of the root), so
/// it is what memory.current counts, from the root's memory.stat: anon + file + kernel + sock (0 without memcg).
/// A `memory.current` text (a child cgroup's) wins when given.
pub fn cgroup_current(current: &str, stat: &str) -> u64 {
    if let Ok(v) = current.trim().parse() {
        return v;
    }
    let get = |k: &str| stat.lines().find_map(|l| l.strip_prefix(k)?.strip_prefix(' ')?.trim().parse::<u64>().ok());
    // before Linux 5.18 there is no `kernel` line: its parts
    let kernel = get("kernel").unwrap_or_else(|| {
        ["kernel_stack", "pagetables", "percpu", "slab", "vmalloc"].iter().filter_map(|k| get(k)).sum()
    });
    get("anon").unwrap_or(0) + get("file").unwrap_or(0) + kernel + get("sock").unwrap_or(0)
}

fn read(p: &str) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

pub fn collect(time_ns: u64, dropped: u64) -> Value {
    let (user, system, idle) = parse_cpu(&read("/proc/stat"));
    let (total, avail) = parse_meminfo(&read("/proc/meminfo"));
    let cg = cgroup_current(&read("/sys/fs/cgroup/memory.current"), &read("/sys/fs/cgroup/memory.stat"));
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
        ("pids", num(crate::top::task_count("/proc"))),
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
    fn cgroup_memory_from_the_roots_memory_stat() {
        let stat =
            "anon 192512\nfile 3530752\nkernel 4096\nkernel_stack 4096\npagetables 0\nsock 8192\nshmem 1466368\n\
                    file_mapped 2752512\ninactive_file 188416\n";
        assert_eq!(cgroup_current("", stat), 192512 + 3530752 + 4096 + 8192);
        let old = "anon 100\nfile 200\nkernel_stack 8\npagetables 4\nslab 16\nanon_thp 0\n";
        assert_eq!(cgroup_current("", old), 100 + 200 + 8 + 4 + 16);
        assert_eq!(cgroup_current("123456\n", stat), 123456);
        assert_eq!(cgroup_current("", ""), 0, "no memcg");
    }

    #[test]
    fn payload_has_the_protocol_shape() {
        let v = collect(5, 7);
        for k in ["time_ns", "cpu", "memory", "disk", "network", "log_dropped_bytes", "pids"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v.get("log_dropped_bytes").unwrap().as_u64(), Some(7));
        assert!(v.get("memory").unwrap().get("cgroup_current_bytes").is_some());
        // this test process and its threads, at least
        assert!(v.get("pids").unwrap().as_u64().unwrap() >= 1);
    }
}
