//! Docker's `top` (PROTOCOL.md §10 `top`): the guest's processes as `ps -ef` shows them, read from /proc (the
//! guest has no `ps` of its own to run).

use std::fs;

use crate::json::{obj, string, Value};
use crate::pathstat::Utc;
use crate::spec;

/// The unit of /proc/<pid>/stat's times: USER_HZ, 100 on every Linux architecture the guest runs on.
const HZ: u64 = 100;
const TITLES: [&str; 8] = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `{"Titles":[…],"Processes":[[…],…]}` of every process under `proc_root`, by pid; users named through the
/// guest's /etc/passwd.
pub fn top_json(proc_root: &str) -> String {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    render(proc_root, &passwd, now)
}

/// top_json with the passwd text and the current time given (the tests' fake /proc needs a fixed "now").
pub fn render(proc_root: &str, passwd: &str, now: i64) -> String {
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
        .filter_map(|pid| row(proc_root, pid, passwd, boot, uptime, now)) // a process that exited meanwhile: gone
        .map(|cells| Value::Array(cells.into_iter().map(string).collect()))
        .collect();
    obj(vec![("Titles", Value::Array(TITLES.iter().map(|t| string(*t)).collect())), ("Processes", Value::Array(rows))])
        .to_json()
}

fn row(proc_root: &str, pid: u32, passwd: &str, boot: i64, uptime: f64, now: i64) -> Option<Vec<String>> {
    let dir = format!("{proc_root}/{pid}");
    let stat = fs::read_to_string(format!("{dir}/stat")).ok()?;
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so it ends at the last ')'
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let comm = &stat[open + 1..close];
    let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok());
    let (state, ppid, tty_nr) = (*f.first()?, field(1)?, field(4)?);
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
