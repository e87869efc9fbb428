//! Docker's `top` (PROTOCOL.md §10 `top`): the guest's processes as `ps -ef` shows them, read from /proc (the
//! guest has no `ps` of its own to run).

use std::fs;

use crate::json::{obj, string, Value};
use crate::pathstat::Utc;
use crate::spec;

/// The unit of /proc/<pid>/stat's times: USER_HZ, 100 on every Linux architecture the guest runs on.
const HZ: u64 = 100;
/// The kernel's thread daemon: every kernel thread is it or its child.
const KTHREADD: u32 = 2;
const TITLES: [&str; 8] = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `{"Titles":[…],"Processes":[[…],…]}` of the VM's processes under `proc_root`, by pid; users named through the
/// guest's /etc/passwd. As `docker top` lists a container's processes and not the host's, kernel threads (kthreadd
/// and its children) and the process asking (init's child serving this session) are left out; init, PID 1, stays.
pub fn top_json(proc_root: &str) -> String {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    render(proc_root, &passwd, now, std::process::id())
}

/// top_json with the passwd text, the current time and the pid to leave out given (the tests' fake /proc needs a
/// fixed "now").
pub fn render(proc_root: &str, passwd: &str, now: i64, asking: u32) -> String {
    let boot = fs::read_to_string(format!("{proc_root}/stat"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("btime ")?.trim().parse::<i64>().ok()))
        .unwrap_or(0);
    let uptime = fs::read_to_string(format!("{proc_root}/uptime"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    let mut pids: Vec<u32> = fs::read_dir(proc_root)
        .map(|d| d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    pids.sort_unstable();
    let rows: Vec<Value> = pids
        .into_iter()
        .filter(|&pid| pid != asking)
        .filter_map(|pid| row(proc_root, pid, passwd, boot, uptime, now)) // a process that exited meanwhile: gone
        .map(|cells| Value::Array(cells.into_iter().map(string).collect()))
        .collect();
    obj(vec![("Titles", Value::Array(TITLES.iter().map(|t| string(*t)).collect())), ("Processes", Value::Array(rows))])
        .to_json()
}

fn row(proc_root: &str, pid: u32, passwd: &str, boot: i64, uptime: f64, now: i64) -> Option<Vec<String>> {
    let dir = format!("{proc_root}/{pid}");
    // lossy: comm is whatever bytes the process named itself
    let stat = String::from_utf8_lossy(&fs::read(format!("{dir}/stat")).ok()?).into_owned();
    let (comm, f) = stat_fields(&stat)?;
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok());
    let (state, ppid, tty_nr) = (*f.first()?, field(1)?, field(4)?);
    if is_kernel_thread(pid, ppid) {
        return None;
    }
    let cpu_ticks = (field(11)? + field(12)?) as u64;
    let start_ticks = field(19)? as u64;

    let status = fs::read_to_string(format!("{dir}/status")).ok()?;
    // Uid: real effective saved fs — ps -f shows the effective one
    let euid: u32 = status.lines().find_map(|l| l.strip_prefix("Uid:")?.split_whitespace().nth(1)?.parse().ok())?;
    let user = spec::user_name(passwd, euid).map_or_else(|| euid.to_string(), str::to_string);

    let cmdline = fs::read(format!("{dir}/cmdline")).unwrap_or_default();
    let args: Vec<String> =
        cmdline.split(|&b| b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    let cmd = match (args.is_empty(), state) {
        (_, "Z") => format!("[{comm}] <defunct>"),
        (true, _) => format!("[{comm}]"), // a kernel thread
        (false, _) => args.join(" "),
    };

    // ps's %C: CPU time over the time since the process started, in whole percent, at most 99
    let running_secs = (uptime - start_ticks as f64 / HZ as f64).max(0.0) as u64;
    let c = (cpu_ticks * 100 / HZ).checked_div(running_secs).unwrap_or(0);
    let started = boot + (start_ticks / HZ) as i64;
    Some(vec![
        user,
        pid.to_string(),
        ppid.to_string(),
        c.min(99).to_string(),
        stime(started, now),
        tty_name(tty_nr as u32),
        cpu_time(cpu_ticks / HZ),
        cmd,
    ])
}

/// /proc/<pid>/stat as comm and the fields after it (state first): "pid (comm) state ppid …", where comm may hold
/// spaces and parentheses, so it ends at the last ')'.
fn stat_fields(stat: &str) -> Option<(&str, Vec<&str>)> {
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    Some((stat.get(open + 1..close)?, stat[close + 1..].split_whitespace().collect()))
}

/// The guest kernel's own threads (kthreadd and its children) are not the workload's: left out of `top` and of
/// the PIDS count.
fn is_kernel_thread(pid: u32, ppid: i64) -> bool {
    pid == KTHREADD || ppid == KTHREADD as i64
}

/// `docker stats`' PIDS (METRICS `pids`, PROTOCOL.md §6): the guest's tasks as the pids controller counts them
/// (each thread counts), kernel threads left out, init included.
pub fn task_count(proc_root: &str) -> u64 {
    let Ok(dir) = fs::read_dir(proc_root) else { return 0 };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = String::from_utf8_lossy(&fs::read(format!("{proc_root}/{pid}/stat")).ok()?).into_owned();
            let (_, f) = stat_fields(&stat)?;
            let ppid = f.get(1)?.parse::<i64>().ok()?;
            // num_threads, stat's field 20
            (!is_kernel_thread(pid, ppid)).then(|| f.get(17)?.parse::<u64>().ok()).flatten()
        })
        .sum()
}

/// ps's STIME: HH:MM for a process started today, MonDD (procps' "%b%d") earlier this year, else the year (UTC:
/// the guest has no time zone).
fn stime(started: i64, now: i64) -> String {
    let (s, n) = (Utc::from_unix(started), Utc::from_unix(now));
    if (s.year, s.month, s.day) == (n.year, n.month, n.day) {
        format!("{:02}:{:02}", s.hour, s.minute)
    } else if s.year == n.year {
        format!("{}{:02}", MONTHS[(s.month - 1) as usize], s.day)
    } else {
        s.year.to_string()
    }
}

/// ps's TIME: cumulative CPU time as [DD-]HH:MM:SS.
fn cpu_time(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let hms = format!("{:02}:{:02}:{:02}", rest / 3600, rest / 60 % 60, rest % 60);
    if days > 0 {
        format!("{days}-{hms}")
    } else {
        hms
    }
}

/// The controlling terminal's name from stat's tty_nr (the kernel's dev_t encoding), as ps names it.
fn tty_name(tty_nr: u32) -> String {
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    match major {
        0 => "?".to_string(),
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        5 if minor == 1 => "console".to_string(),
        229 => format!("hvc{minor}"),
        _ => "?".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::tests::TempDir;

    #[allow(clippy::too_many_arguments)] // one per column of the fake entry: clearer than a struct here
    /// A /proc entry: stat with the given fields, status with the euid, cmdline as NUL-separated args.
    fn process(
        proc: &TempDir,
        pid: u32,
        comm: &str,
        state: &str,
        ppid: u32,
        tty: u32,
        cpu: (u64, u64),
        start: u64,
        euid: u32,
        args: &[&str],
    ) {
        let dir = proc.path(&pid.to_string());
        fs::create_dir(&dir).unwrap();
        let stat = format!(
            "{pid} ({comm}) {state} {ppid} {pid} {pid} {tty} -1 4194560 10 0 0 0 {} {} 0 0 20 0 1 0 {start} 1000 10 0\n",
            cpu.0, cpu.1
        );
        fs::write(dir.join("stat"), stat).unwrap();
        fs::write(dir.join("status"), format!("Name:\t{comm}\nUid:\t0\t{euid}\t{euid}\t{euid}\nGid:\t0\t0\t0\t0\n"))
            .unwrap();
        let cmdline: Vec<u8> = args.iter().flat_map(|a| a.bytes().chain([0])).collect();
        fs::write(dir.join("cmdline"), cmdline).unwrap();
    }

    #[test]
    fn lists_the_vms_processes_as_ps_ef_does() {
        let proc = TempDir::new("top");
        let now = 1_796_385_000; // 2026-12-04T11:50:00Z
        let boot = now - 2 * 86_400;
        fs::write(proc.path("stat"), format!("cpu  1 2 3 4\nbtime {boot}\nprocesses 99\n")).unwrap();
        fs::write(proc.path("uptime"), "172800.00 300000.00\n").unwrap();
        let passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n";
        process(&proc, 1, "init", "S", 0, 0, (8_640_000, 500), 5, 0, &["/inferno/init"]);
        process(&proc, 2, "kthreadd", "S", 0, 0, (0, 0), 5, 0, &[]); // kernel threads: left out
        process(&proc, 9, "kworker/0:0", "I", 2, 0, (0, 0), 5, 0, &[]);
        process(&proc, 60, "init", "R", 1, 0, (0, 0), 5, 0, &["/inferno/init"]); // the asking child: left out
        process(
            &proc,
            42,
            "my (odd) app",
            "R",
            1,
            (136 << 8) | 3,
            (300_000, 60_000),
            (2 * 86_400 - 1000) * 100,
            65534,
            &["python3", "-m", "http.server"],
        );
        process(&proc, 7, "sh", "Z", 1, (4 << 8) | 64, (0, 0), 86_400 * 100, 1234, &[]);
        fs::create_dir(proc.path("123")).unwrap(); // exited between the listing and the read: left out
        fs::create_dir(proc.path("sys")).unwrap();
        let expected = concat!(
            r#"{"Titles":["UID","PID","PPID","C","STIME","TTY","TIME","CMD"],"Processes":["#,
            r#"["root","1","0","50","Dec02","?","1-00:00:05","/inferno/init"],"#,
            r#"["1234","7","1","0","Dec03","ttyS0","00:00:00","[sh] <defunct>"],"#,
            r#"["nobody","42","1","99","11:33","pts/3","01:00:00","python3 -m http.server"]]}"#
        );
        assert_eq!(render(proc.str(), passwd, now, 60), expected);
    }

    #[test]
    fn pids_counts_every_task_but_the_kernels() {
        let proc = TempDir::new("pids");
        process(&proc, 1, "init", "S", 0, 0, (0, 0), 5, 0, &["/inferno/init"]);
        process(&proc, 2, "kthreadd", "S", 0, 0, (0, 0), 5, 0, &[]);
        process(&proc, 9, "kworker/0:0", "I", 2, 0, (0, 0), 5, 0, &[]);
        process(&proc, 7, "sh", "Z", 1, 0, (0, 0), 5, 0, &[]); // a zombie holds its pid until reaped
        process(&proc, 42, "java (main)", "S", 7, 0, (0, 0), 5, 0, &["java"]);
        let stat = fs::read_to_string(proc.path("42/stat")).unwrap().replace(" 20 0 1 0 ", " 20 0 12 0 ");
        fs::write(proc.path("42/stat"), stat).unwrap();
        fs::create_dir(proc.path("123")).unwrap(); // exited meanwhile
        assert_eq!(task_count(proc.str()), 1 + 1 + 12);
        assert_eq!(task_count("/no/such/proc"), 0);
    }

    #[test]
    fn a_name_that_is_not_utf8_is_shown_lossily() {
        let proc = TempDir::new("top-bytes");
        process(&proc, 9, "x", "S", 1, 0, (0, 0), 0, 0, &[]);
        fs::write(proc.path("9/stat"), b"9 (a\xff) b) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 1 1 0\n").unwrap();
        let out = render(proc.str(), "", 0, 0);
        assert!(out.contains("\"[a\u{fffd}) b]\"]"), "{out}");
    }

    #[test]
    fn an_empty_or_missing_proc_gives_no_processes() {
        let expected = r#"{"Titles":["UID","PID","PPID","C","STIME","TTY","TIME","CMD"],"Processes":[]}"#;
        assert_eq!(render("/no/such/proc", "", 0, 0), expected);
    }

    #[test]
    fn start_times_and_terminals() {
        let now = 1_796_385_000; // 2026-12-04T11:50:00Z
        assert_eq!(stime(now - 11 * 3600 - 50 * 60, now), "00:00");
        assert_eq!(stime(now - 11 * 3600 - 51 * 60, now), "Dec03");
        assert_eq!(stime(now - 300 * 86_400, now), "Feb07");
        assert_eq!(stime(now - 340 * 86_400, now), "2025"); // Dec29 of last year: procps shows the year

        assert_eq!(cpu_time(59), "00:00:59");
        assert_eq!(cpu_time(100 * 86_400 + 3661), "100-01:01:01");
        assert_eq!(tty_name((137 << 8) | 5), "pts/261");
        assert_eq!(tty_name((136 << 8) | (1 << 20) | 2), "pts/258"); // minor's high bits (256 + 2)
        assert_eq!(tty_name((4 << 8) | 1), "tty1");
        assert_eq!(tty_name((5 << 8) | 1), "console");
        assert_eq!(tty_name((229 << 8) | 1), "hvc1");
    }

    #[test]
    fn agrees_with_ps_on_the_real_proc() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        // the child's argument area can read empty for a moment around its exec: compare a settled process
        let cmdline = format!("/proc/{pid}/cmdline");
        let settled = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while fs::read(&cmdline).map_or(true, |c| c.is_empty()) && std::time::Instant::now() < settled {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let top = crate::json::parse(&top_json("/proc")).unwrap();
        let ps = std::process::Command::new("ps")
            .env("TZ", "UTC")
            .args(["-o", "user=,pid=,ppid=,c=,stime=,tty=,time=,args=", "-p", &pid.to_string()])
            .output()
            .unwrap();
        let _ = child.kill();
        let _ = child.wait();
        let ps = String::from_utf8(ps.stdout).unwrap();
        let ps: Vec<&str> = ps.split_whitespace().collect();
        let row = top
            .get("Processes")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r.as_array().unwrap()[1].as_str() == Some(&pid.to_string()));
        let row: Vec<&str> =
            row.expect("the child is listed").as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert_eq!(row[..7], ps[..7]);
        assert_eq!(row[7], ps[7..].join(" "));
        assert_eq!(row[7], "sleep 30");
    }
}
