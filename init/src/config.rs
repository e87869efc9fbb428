//! The run config of docs/PROTOCOL.md §5 (`/inferno/run.json`).

use crate::json::{self, Value};

/// The run config version this init speaks; it accepts exactly this one.
pub const VERSION: u64 = 2;

/// The workload as the host resolved it (Docker's merge is the host's, PROTOCOL.md §5): init resolves only
/// what needs the guest's files — the user, HOME, argv[0] through PATH (process.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub argv: Vec<String>,
    pub env: Vec<String>,
    pub workdir: String,
    /// Docker's `User` (`name`, `uid`, `name:group`, …), resolved through /etc/passwd and /etc/group.
    pub user: String,
    pub stop_signal: i32,
    /// Docker's `-t`: the workload runs on a pseudo-terminal (PROTOCOL.md §10).
    pub tty: bool,
    /// Docker's `-i`: its stdin is fed from session 0 instead of /dev/null.
    pub stdin: bool,
    /// `[rows, cols]` set on the terminal before the workload starts.
    pub console_size: Option<(u16, u16)>,
}

impl Default for Process {
    fn default() -> Self {
        Process {
            argv: Vec::new(),
            env: Vec::new(),
            workdir: "/".into(),
            user: "0:0".into(),
            stop_signal: 15,
            tty: false,
            stdin: false,
            console_size: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Auto,
    Vsock,
    VirtioSerial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    Block,
    Drop,
}

/// The guest's one network interface (docs/networking.md): init finds it by `mac`, gives it `address`, a
/// default route via `gateway` and `mtu`. The same checks and messages as kiln's RunConfig.Network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Lower-case unicast MAC, e.g. "02:42:ac:1e:00:02".
    pub mac: String,
    /// IPv4 address with its prefix length (1-31), e.g. "172.30.0.2/30".
    pub address: String,
    /// The host side of the link, inside the address's subnet.
    pub gateway: String,
    pub mtu: u32,
}

impl Network {
    pub const DEFAULT_MTU: u32 = 1500;

    /// The guest's address without its prefix length.
    pub fn ip(&self) -> &str {
        self.address.split('/').next().unwrap_or(&self.address)
    }
}

/// One of `mounts` (PROTOCOL.md §5: Docker's `-v`, `--mount`, `--tmpfs`), mounted by mounts.rs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mount {
    /// An ext4 block device kiln attached (kiln owns which device a drive becomes).
    Volume { device: String, target: String, readonly: bool },
    /// `size_bytes` None: the kernel's default (half the memory); `mode` None: 01777.
    Tmpfs { target: String, size_bytes: Option<u64>, mode: Option<u32> },
}

impl Mount {
    pub fn target(&self) -> &str {
        match self {
            Mount::Volume { target, .. } | Mount::Tmpfs { target, .. } => target,
        }
    }
    pub fn kind(&self) -> &'static str {
        match self {
            Mount::Volume { .. } => "volume",
            Mount::Tmpfs { .. } => "tmpfs",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    pub vm_id: String,
    pub hostname: String,
    pub process: Process,
    pub image_device: String,
    pub writable_device: Option<String>,
    /// Docker's `--read-only`: the root is remounted read-only before the workload starts.
    pub readonly: bool,
    pub mounts: Vec<Mount>,
    pub transport: Transport,
    /// vsock ports: logs, exit, metrics, control, session.
    pub port_logs: u32,
    pub port_exit: u32,
    pub port_metrics: u32,
    pub port_control: u32,
    pub port_session: u32,
    pub stop_timeout_secs: u64,
    pub log_mode: LogMode,
    pub log_buffer_bytes: usize,
    pub drain_timeout_ms: u64,
    pub metrics_interval_secs: u64,
    pub nameservers: Vec<String>,
    pub search: Vec<String>,
    pub hosts: Vec<String>,
    /// eth0's configuration; None = `--network none`, only `lo`.
    pub network: Option<Network>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            vm_id: String::new(),
            hostname: String::new(),
            process: Process::default(),
            image_device: "/dev/vda".into(),
            writable_device: Some("/dev/vdb".into()),
            readonly: false,
            mounts: Vec::new(),
            transport: Transport::Auto,
            port_logs: 10000,
            port_exit: 10001,
            port_metrics: 10002,
            port_control: 10003,
            port_session: 10004,
            stop_timeout_secs: 10,
            log_mode: LogMode::Block,
            log_buffer_bytes: 1 << 20,
            drain_timeout_ms: 5000,
            metrics_interval_secs: 0,
            nameservers: Vec::new(),
            search: Vec::new(),
            hosts: Vec::new(),
            network: None,
        }
    }
}

/// Reads one field with a path for error messages; absent and `null` are both "not set".
struct Obj<'a> {
    v: &'a Value,
    path: String,
}

impl<'a> Obj<'a> {
    fn new(v: &'a Value, path: &str) -> Result<Self, String> {
        match v {
            Value::Object(_) => Ok(Obj { v, path: path.to_string() }),
            other => Err(format!("{} must be an object, not {}", display(path), other.type_name())),
        }
    }
    fn field(&self, k: &str) -> Option<&'a Value> {
        self.v.get(k).filter(|v| !v.is_null())
    }
    fn name(&self, k: &str) -> String {
        if self.path.is_empty() {
            k.to_string()
        } else {
            format!("{}.{}", self.path, k)
        }
    }
    fn obj(&self, k: &str) -> Result<Option<Obj<'a>>, String> {
        self.field(k).map(|v| Obj::new(v, &self.name(k))).transpose()
    }
    fn str(&self, k: &str) -> Result<Option<String>, String> {
        match self.field(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(o) => Err(format!("{} must be a string, not {}", self.name(k), o.type_name())),
        }
    }
    fn u64(&self, k: &str) -> Result<Option<u64>, String> {
        match self.field(k) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| format!("{} must be a non-negative integer, not {}", self.name(k), v.to_json())),
        }
    }
    fn bool(&self, k: &str) -> Result<Option<bool>, String> {
        match self.field(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(o) => Err(format!("{} must be true or false, not {}", self.name(k), o.to_json())),
        }
    }
    fn strings(&self, k: &str) -> Result<Option<Vec<String>>, String> {
        match self.field(k) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("{} must be a list of strings, found {}", self.name(k), i.type_name()))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(o) => Err(format!("{} must be a list of strings, not {}", self.name(k), o.type_name())),
        }
    }
}

fn display(path: &str) -> &str {
    if path.is_empty() {
        "the run config"
    } else {
        path
    }
}

fn port(o: &Option<Obj>, k: &str, default: u32) -> Result<u32, String> {
    match o {
        None => Ok(default),
        Some(o) => match o.u64(k)? {
            None => Ok(default),
            Some(p) if p <= u32::MAX as u64 => Ok(p as u32),
            Some(p) => Err(format!("{} is out of range: {p}", o.name(k))),
        },
    }
}

pub fn parse(text: &str) -> Result<RunConfig, String> {
    let root = json::parse(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let top = Obj::new(&root, "")?;
    match top.u64("version")? {
        Some(VERSION) => {}
        Some(v) => return Err(format!("version {v} is not supported (this init speaks version {VERSION})")),
        None => return Err(format!("version is missing (expected {VERSION})")),
    }
    let mut c = RunConfig { vm_id: top.str("vm_id")?.ok_or("vm_id is missing")?, ..RunConfig::default() };
    c.hostname = top.str("hostname")?.unwrap_or_else(|| c.vm_id.chars().take(12).collect());
    c.process = process(&top.obj("process")?.ok_or("process is missing")?)?;
    if let Some(r) = top.obj("root")? {
        if let Some(d) = r.str("image_device")? {
            c.image_device = d;
        }
        // explicit null = ephemeral VM (tmpfs upper); absent = the default disk
        c.writable_device = match r.v.get("writable_device") {
            None => c.writable_device,
            Some(Value::Null) => None,
            Some(_) => r.str("writable_device")?,
        };
        c.readonly = r.bool("readonly")?.unwrap_or(false);
    }
    c.mounts = match top.field("mounts") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, m)| mount(&Obj::new(m, &format!("mounts[{i}]"))?))
            .collect::<Result<_, _>>()?,
        Some(o) => return Err(format!("mounts must be a list, not {}", o.type_name())),
    };
    c.transport = match top.str("transport")?.as_deref() {
        None | Some("auto") => Transport::Auto,
        Some("vsock") => Transport::Vsock,
        Some("virtio-serial") => Transport::VirtioSerial,
        Some(t) => return Err(format!("transport {t:?} is not one of \"auto\", \"vsock\", \"virtio-serial\"")),
    };
    let ports = top.obj("ports")?;
    c.port_logs = port(&ports, "logs", c.port_logs)?;
    c.port_exit = port(&ports, "exit", c.port_exit)?;
    c.port_metrics = port(&ports, "metrics", c.port_metrics)?;
    c.port_control = port(&ports, "control", c.port_control)?;
    c.port_session = port(&ports, "session", c.port_session)?;
    if let Some(s) = top.obj("stop")? {
        c.stop_timeout_secs = s.u64("timeout_secs")?.unwrap_or(c.stop_timeout_secs);
    }
    if let Some(l) = top.obj("log")? {
        c.log_mode = match l.str("mode")?.as_deref() {
            None | Some("block") => LogMode::Block,
            Some("drop") => LogMode::Drop,
            Some(m) => return Err(format!("log.mode {m:?} is not \"block\" or \"drop\"")),
        };
        if let Some(b) = l.u64("buffer_bytes")? {
            if b < 4096 {
                return Err(format!("log.buffer_bytes must be at least 4096, not {b}"));
            }
            c.log_buffer_bytes = b.min(1 << 30) as usize;
        }
        c.drain_timeout_ms = l.u64("drain_timeout_ms")?.unwrap_or(c.drain_timeout_ms);
    }
    c.metrics_interval_secs = top.u64("metrics_interval_secs")?.unwrap_or(0);
    if let Some(d) = top.obj("dns")? {
        c.nameservers = d.strings("nameservers")?.unwrap_or_default();
        c.search = d.strings("search")?.unwrap_or_default();
    }
    c.hosts = top.strings("hosts")?.unwrap_or_default();
    c.network = top.obj("network")?.map(|n| network(&n)).transpose()?;
    Ok(c)
}

fn mount(m: &Obj) -> Result<Mount, String> {
    let absolute = |k: &str| -> Result<String, String> {
        let p = m.str(k)?.ok_or_else(|| format!("{} is missing", m.name(k)))?;
        if p.starts_with('/') {
            Ok(p)
        } else {
            Err(format!("{} must be an absolute path, not {p:?}", m.name(k)))
        }
    };
    let kind = m.str("type")?.ok_or_else(|| format!("{} is missing", m.name("type")))?;
    match kind.as_str() {
        // device before target, as kiln's RunConfig checks them
        "volume" => Ok(Mount::Volume {
            device: absolute("device")?,
            target: absolute("target")?,
            readonly: m.bool("readonly")?.unwrap_or(false),
        }),
        "tmpfs" => {
            let mode = match m.u64("mode")? {
                Some(v) if v > 0o7777 => return Err(format!("{} must be 0 to 4095, not {v}", m.name("mode"))),
                v => v.map(|v| v as u32),
            };
            Ok(Mount::Tmpfs { target: absolute("target")?, size_bytes: m.u64("size_bytes")?, mode })
        }
        t => Err(format!("{} {t:?} is not \"volume\" or \"tmpfs\"", m.name("type"))),
    }
}

fn network(n: &Obj) -> Result<Network, String> {
    let mac = n.str("mac")?.ok_or("network.mac is missing")?;
    check_mac("network.mac", &mac)?;
    let address = n.str("address")?.ok_or("network.address is missing")?;
    let gateway = n.str("gateway")?.ok_or("network.gateway is missing")?;
    // 1-2 ASCII digits after the slash, as kiln checks (u8's parser alone would take "+30")
    let (addr, prefix) = address
        .split_once('/')
        .filter(|(_, p)| !p.is_empty() && p.len() <= 2 && p.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|_| crate::netlink::parse_cidr(&address).ok())
        .filter(|(_, p)| (1..=31).contains(p))
        .ok_or_else(|| {
            format!(
                "network.address {address:?} is not an IPv4 address with a prefix length 1-31, like \"172.30.0.2/30\""
            )
        })?;
    let gw = crate::netlink::parse_ipv4(&gateway)
        .map_err(|_| format!("network.gateway {gateway:?} is not an IPv4 address, like \"172.30.0.1\""))?;
    let mask = u32::MAX << (32 - prefix);
    let (a, g) = (u32::from_be_bytes(addr), u32::from_be_bytes(gw));
    if a & mask != g & mask {
        return Err(format!("network.gateway {gateway:?} is not in the subnet of network.address {address:?}"));
    }
    if a == g {
        return Err(format!("network.gateway {gateway:?} is the guest's own address"));
    }
    let mtu = n.u64("mtu")?.unwrap_or(Network::DEFAULT_MTU as u64);
    if !(68..=65535).contains(&mtu) {
        return Err(format!("network.mtu must be 68 to 65535, not {mtu}"));
    }
    Ok(Network { mac, address, gateway, mtu: mtu as u32 })
}

/// Six lower-case hex bytes, not multicast (the low bit of the first byte clear): what the guest's NIC
/// can have, and what /sys/class/net/*/address shows.
fn check_mac(what: &str, mac: &str) -> Result<(), String> {
    let parts: Vec<&str> = mac.split(':').collect();
    let hex = |p: &&str| p.len() == 2 && p.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    let unicast = parts.first().and_then(|p| u8::from_str_radix(p, 16).ok()).is_some_and(|b| b & 1 == 0);
    if parts.len() == 6 && parts.iter().all(hex) && unicast {
        Ok(())
    } else {
        Err(format!(
            "{what} {mac:?} is not a unicast MAC address of six lower-case hex bytes, like \"02:42:ac:1e:00:02\""
        ))
    }
}

/// A process object: the run config's `process`, or an exec session's OPEN (PROTOCOL.md §10), whose fields
/// are the same; `path` names it in errors ("process", "exec").
pub fn parse_process(v: &Value, path: &str) -> Result<Process, String> {
    process(&Obj::new(v, path)?)
}

fn process(p: &Obj) -> Result<Process, String> {
    let d = Process::default();
    let argv = p.strings("argv")?.ok_or_else(|| format!("{} is missing", p.name("argv")))?;
    if argv.is_empty() {
        return Err(format!("{} must not be empty", p.name("argv")));
    }
    let workdir = p.str("workdir")?.unwrap_or(d.workdir);
    if !workdir.starts_with('/') {
        return Err(format!("{} must be an absolute path, not {workdir:?}", p.name("workdir")));
    }
    let stop_signal = match p.str("stop_signal")? {
        Some(s) => crate::spec::parse_signal(&s).map_err(|e| format!("{}: {e}", p.name("stop_signal")))?,
        None => d.stop_signal,
    };
    Ok(Process {
        argv,
        env: p.strings("env")?.unwrap_or_default(),
        workdir,
        user: p.str("user")?.unwrap_or(d.user),
        stop_signal,
        tty: p.bool("tty")?.unwrap_or(false),
        stdin: p.bool("stdin")?.unwrap_or(false),
        console_size: console_size(p.field("console_size"), &p.name("console_size"))?,
    })
}

/// `[rows, cols]`, each 1-65535, or not set; the same rule for the main process and an exec's OPEN.
pub fn console_size(v: Option<&Value>, what: &str) -> Result<Option<(u16, u16)>, String> {
    let dim = |v: &Value| v.as_u64().filter(|n| (1..=65535).contains(n)).map(|n| n as u16);
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) if a.len() == 2 => match (dim(&a[0]), dim(&a[1])) {
            (Some(r), Some(c)) => Ok(Some((r, c))),
            _ => {
                Err(format!("{what} must be [rows, cols], each 1 to 65535, not {}", Value::Array(a.clone()).to_json()))
            }
        },
        Some(o) => Err(format!("{what} must be [rows, cols], each 1 to 65535, not {}", o.to_json())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// testdata/protocol/run-config: the golden run configs kiln's RunConfigTest parses too.
    fn golden(name: &str) -> Result<RunConfig, String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/protocol/run-config");
        parse(&std::fs::read_to_string(dir.join(name)).unwrap())
    }

    #[test]
    fn the_full_config_has_every_field() {
        let c = golden("full.json").unwrap();
        assert_eq!(c.vm_id, "9f86d081884c7d65");
        assert_eq!(c.hostname, "web-1");
        assert_eq!(c.process.argv, vec!["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]);
        assert_eq!(
            c.process.env,
            vec!["HOSTNAME=web-1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "DEBUG=1"]
        );
        assert_eq!(c.process.workdir, "/srv");
        assert_eq!(c.process.user, "nginx:www");
        assert_eq!(c.process.stop_signal, 3, "SIGQUIT");
        assert_eq!((c.process.tty, c.process.stdin, c.process.console_size), (true, true, Some((50, 132))));
        assert_eq!((c.image_device.as_str(), c.writable_device.as_deref()), ("/dev/vda", None));
        assert!(c.readonly);
        assert_eq!(
            c.mounts,
            vec![
                Mount::Volume { device: "/dev/vdb".into(), target: "/var/lib/data".into(), readonly: false },
                Mount::Volume { device: "/dev/vdc".into(), target: "/etc/app".into(), readonly: true },
                Mount::Tmpfs { target: "/var/cache/app".into(), size_bytes: Some(64 << 20), mode: Some(0o1777) },
            ]
        );
        assert_eq!(c.transport, Transport::VirtioSerial);
        assert_eq!(
            (c.port_logs, c.port_exit, c.port_metrics, c.port_control, c.port_session),
            (11000, 11001, 11002, 11003, 11004)
        );
        assert_eq!(c.stop_timeout_secs, 30);
        assert_eq!((c.log_mode, c.log_buffer_bytes, c.drain_timeout_ms), (LogMode::Drop, 65536, 2500));
        assert_eq!(c.metrics_interval_secs, 5);
        assert_eq!(c.nameservers, vec!["10.0.0.53"]);
        assert_eq!(c.search, vec!["corp.example"]);
        assert_eq!(c.hosts, vec!["10.0.0.7 db.internal"]);
        let n = c.network.unwrap();
        assert_eq!(
            n,
            Network {
                mac: "02:42:ac:1e:00:02".into(),
                address: "172.30.0.2/30".into(),
                gateway: "172.30.0.1".into(),
                mtu: 9000
            }
        );
        assert_eq!(n.ip(), "172.30.0.2");
    }

    #[test]
    fn the_minimal_config_gets_the_defaults() {
        let c = golden("minimal.json").unwrap();
        assert_eq!(c.hostname, "abc");
        assert_eq!(
            c.process,
            Process {
                argv: vec!["/bin/true".into()],
                env: vec![],
                workdir: "/".into(),
                user: "0:0".into(),
                stop_signal: 15,
                tty: false,
                stdin: false,
                console_size: None
            }
        );
        assert_eq!(c.writable_device.as_deref(), Some("/dev/vdb"));
        assert!(!c.readonly && c.mounts.is_empty());
        assert_eq!(c.transport, Transport::Auto);
        assert_eq!(
            (c.port_logs, c.port_exit, c.port_metrics, c.port_control, c.port_session),
            (10000, 10001, 10002, 10003, 10004)
        );
        assert_eq!(c.stop_timeout_secs, 10);
        assert_eq!((c.log_mode, c.log_buffer_bytes, c.drain_timeout_ms), (LogMode::Block, 1 << 20, 5000));
        assert_eq!(c.metrics_interval_secs, 0);
        assert!(c.nameservers.is_empty() && c.search.is_empty() && c.hosts.is_empty());
        assert_eq!(c.network, None, "no network: --network none, only lo");
    }

    #[test]
    fn network_mtu_defaults_to_1500_and_null_means_none() {
        let head = r#"{"version":2,"vm_id":"a","process":{"argv":["x"]},"#;
        let c = parse(&format!(
            r#"{head}"network":{{"mac":"02:00:00:00:00:01","address":"10.1.2.6/31","gateway":"10.1.2.7"}}}}"#
        ))
        .unwrap();
        assert_eq!(c.network.unwrap().mtu, 1500);
        assert_eq!(parse(&format!(r#"{head}"network":null}}"#)).unwrap().network, None);
        for (net, want) in [
            (r#"{"mac":"02:00:00:00:00:01","address":"10.0.0.2/+3","gateway":"10.0.0.1"}"#, "prefix length 1-31"),
            (r#"{"mac":"02:00:00:00:00:01","address":"10.0.0.2/32","gateway":"10.0.0.1"}"#, "prefix length 1-31"),
            (r#"{"mac":"02:00:00:00:00:01","address":"10.0.0.2/30","gateway":5}"#, "network.gateway must be a string"),
            (r#"{"mac":"02:00:00:00:00:01:07","address":"10.0.0.2/30","gateway":"10.0.0.1"}"#, "network.mac"),
        ] {
            let err = parse(&format!(r#"{head}"network":{net}}}"#)).unwrap_err();
            assert!(err.contains(want), "{net}: {err:?} should contain {want:?}");
        }
    }

    #[test]
    fn the_invalid_goldens_fail_with_their_errors() {
        let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/protocol/run-config");
        let cases = json::parse(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
        let invalid = cases.get("invalid").and_then(Value::as_array).unwrap();
        assert!(invalid.len() >= 10);
        for case in invalid {
            let file = case.get("file").and_then(Value::as_str).unwrap();
            let want = case.get("error").and_then(Value::as_str).unwrap();
            let err = golden(file).unwrap_err();
            assert!(err.contains(want), "{file}: {err:?} should contain {want:?}");
        }
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("{not json", "not valid JSON"),
            (
                r#"{"version":2,"vm_id":"a","process":{"argv":["x"],"env":[1]}}"#,
                "process.env must be a list of strings",
            ),
            (r#"{"version":2,"vm_id":"a","process":{"argv":["x"],"stop_signal":"SIGNOPE"}}"#, "SIGNOPE"),
            (r#"{"version":2,"vm_id":"a","process":{"argv":["x"],"user":5}}"#, "process.user must be a string"),
            (r#"{"version":3,"vm_id":"a"}"#, "version 3 is not supported (this init speaks version 2)"),
            (r#"{"version":2,"vm_id":"a","process":{"argv":["x"],"stdin":1}}"#, "process.stdin must be true or false"),
            (
                r#"{"version":2,"vm_id":"a","process":{"argv":["x"],"console_size":[24,65536]}}"#,
                "process.console_size must be [rows, cols], each 1 to 65535, not [24,65536]",
            ),
            (
                r#"{"version":2,"vm_id":"a","process":{"argv":["x"],"console_size":"24x80"}}"#,
                "process.console_size must be [rows, cols]",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err:?} should contain {want:?}");
        }
    }

    #[test]
    fn mounts_default_and_refuse_what_cannot_be_mounted() {
        let head = r#"{"version":2,"vm_id":"a","process":{"argv":["x"]},"#;
        let c = parse(&format!(
            r#"{head}"mounts":[{{"type":"tmpfs","target":"/t","size_bytes":null}},{{"type":"volume","device":"/dev/vdc","target":"/v"}}]}}"#
        ))
        .unwrap();
        assert_eq!(
            c.mounts,
            vec![
                Mount::Tmpfs { target: "/t".into(), size_bytes: None, mode: None },
                Mount::Volume { device: "/dev/vdc".into(), target: "/v".into(), readonly: false }
            ]
        );
        assert!(parse(&format!(r#"{head}"mounts":null}}"#)).unwrap().mounts.is_empty());
        for (mounts, want) in [
            (r#"[{"type":"volume","device":"vdc","target":"/v"}]"#, "mounts[0].device must be an absolute path"),
            (r#"[{"target":"/v"}]"#, "mounts[0].type is missing"),
            (r#"[{"type":"tmpfs"}]"#, "mounts[0].target is missing"),
            (r#"["/v"]"#, "mounts[0] must be an object, not string"),
            (
                r#"[{"type":"volume","device":"/dev/vdc","target":"/v","readonly":1}]"#,
                "mounts[0].readonly must be true",
            ),
        ] {
            let err = parse(&format!(r#"{head}"mounts":{mounts}}}"#)).unwrap_err();
            assert!(err.contains(want), "{mounts}: {err:?} should contain {want:?}");
        }
    }

    #[test]
    fn null_writable_device_means_ephemeral_and_signals_are_names_or_numbers() {
        let c = parse(
            r#"{"version":2,"vm_id":"a","root":{"writable_device":null},
                "process":{"argv":["x"],"stop_signal":"USR1"}}"#,
        )
        .unwrap();
        assert_eq!(c.writable_device, None);
        assert_eq!(c.process.stop_signal, 10);
        let c = parse(r#"{"version":2,"vm_id":"a","process":{"argv":["x"],"stop_signal":"9"}}"#).unwrap();
        assert_eq!(c.process.stop_signal, 9);
    }
}
