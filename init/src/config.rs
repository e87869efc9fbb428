//! The run config of docs/PROTOCOL.md §5 (`/inferno/run.json`).

use crate::json::{self, Value};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageConfig {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub stop_signal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Overrides {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
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

#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    pub vm_id: String,
    pub hostname: String,
    pub image: ImageConfig,
    pub overrides: Overrides,
    pub image_device: String,
    pub writable_device: Option<String>,
    pub transport: Transport,
    /// vsock ports: logs, exit, metrics, control.
    pub port_logs: u32,
    pub port_exit: u32,
    pub port_metrics: u32,
    pub port_control: u32,
    pub stop_signal: Option<String>,
    pub stop_timeout_secs: u64,
    pub log_mode: LogMode,
    pub log_buffer_bytes: usize,
    pub drain_timeout_ms: u64,
    pub metrics_interval_secs: u64,
    pub nameservers: Vec<String>,
    pub search: Vec<String>,
    pub hosts: Vec<String>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            vm_id: String::new(),
            hostname: String::new(),
            image: ImageConfig::default(),
            overrides: Overrides::default(),
            image_device: "/dev/vda".into(),
            writable_device: Some("/dev/vdb".into()),
            transport: Transport::Auto,
            port_logs: 10000,
            port_exit: 10001,
            port_metrics: 10002,
            port_control: 10003,
            stop_signal: None,
            stop_timeout_secs: 10,
            log_mode: LogMode::Block,
            log_buffer_bytes: 1 << 20,
            drain_timeout_ms: 5000,
            metrics_interval_secs: 0,
            nameservers: Vec::new(),
            search: Vec::new(),
            hosts: Vec::new(),
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
        Some(1) => {}
        Some(v) => return Err(format!("version {v} is not supported (this init speaks version 1)")),
        None => return Err("version is missing (expected 1)".into()),
    }
    let mut c = RunConfig { vm_id: top.str("vm_id")?.ok_or("vm_id is missing")?, ..RunConfig::default() };
    c.hostname = top.str("hostname")?.unwrap_or_else(|| c.vm_id.chars().take(12).collect());
    if let Some(ic) = top.obj("image_config")? {
        c.image = ImageConfig {
            entrypoint: ic.strings("Entrypoint")?,
            cmd: ic.strings("Cmd")?,
            env: ic.strings("Env")?.unwrap_or_default(),
            working_dir: ic.str("WorkingDir")?.filter(|s| !s.is_empty()),
            user: ic.str("User")?.filter(|s| !s.is_empty()),
            stop_signal: ic.str("StopSignal")?.filter(|s| !s.is_empty()),
        };
    }
    if let Some(o) = top.obj("overrides")? {
        c.overrides = Overrides {
            entrypoint: o.strings("entrypoint")?,
            cmd: o.strings("cmd")?,
            env: o.strings("env")?.unwrap_or_default(),
            workdir: o.str("workdir")?.filter(|s| !s.is_empty()),
            user: o.str("user")?.filter(|s| !s.is_empty()),
        };
    }
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
    }
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
    if let Some(s) = top.obj("stop")? {
        c.stop_signal = s.str("signal")?.filter(|s| !s.is_empty());
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
    if let Some(sig) = c.stop_signal.as_deref().or(c.image.stop_signal.as_deref()) {
        crate::spec::parse_signal(sig)?;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
      "version": 1,
      "vm_id": "9f86d081884c7d65",
      "hostname": "9f86d081884c",
      "image_config": {
        "Entrypoint": ["/docker-entrypoint.sh"], "Cmd": ["nginx", "-g", "daemon off;"],
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "WorkingDir": "/", "User": "", "StopSignal": "SIGQUIT"
      },
      "overrides": { "entrypoint": null, "cmd": null, "env": ["DEBUG=1"], "workdir": null, "user": null },
      "root": { "image_device": "/dev/vda", "writable_device": "/dev/vdb" },
      "transport": "auto",
      "ports": { "logs": 10000, "exit": 10001, "metrics": 10002, "control": 10003 },
      "stop": { "signal": null, "timeout_secs": 10 },
      "log": { "mode": "block", "buffer_bytes": 1048576, "drain_timeout_ms": 5000 },
      "metrics_interval_secs": 0,
      "dns": { "nameservers": [], "search": [] },
      "hosts": []
    }"#;

    #[test]
    fn parses_the_protocol_example() {
        let c = parse(EXAMPLE).unwrap();
        assert_eq!(c.vm_id, "9f86d081884c7d65");
        assert_eq!(c.hostname, "9f86d081884c");
        assert_eq!(c.image.entrypoint.as_deref(), Some(&["/docker-entrypoint.sh".to_string()][..]));
        assert_eq!(c.image.cmd.as_ref().unwrap().len(), 3);
        assert_eq!(c.image.user, None, "an empty User means not set");
        assert_eq!(c.image.stop_signal.as_deref(), Some("SIGQUIT"));
        assert_eq!(c.overrides.env, vec!["DEBUG=1"]);
        assert_eq!(c.overrides.entrypoint, None);
        assert_eq!(c.writable_device.as_deref(), Some("/dev/vdb"));
        assert_eq!(c.transport, Transport::Auto);
        assert_eq!((c.port_logs, c.port_exit, c.port_metrics, c.port_control), (10000, 10001, 10002, 10003));
        assert_eq!(c.log_mode, LogMode::Block);
        assert_eq!(c.log_buffer_bytes, 1048576);
        assert_eq!(c.drain_timeout_ms, 5000);
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(r#"{"version":1,"vm_id":"abc"}"#).unwrap();
        assert_eq!(c.hostname, "abc");
        assert_eq!(c.writable_device.as_deref(), Some("/dev/vdb"));
        assert_eq!(c.log_mode, LogMode::Block);
        assert_eq!(c.metrics_interval_secs, 0);
    }

    #[test]
    fn null_writable_device_means_ephemeral_and_overrides_are_kept() {
        let c = parse(
            r#"{"version":1,"vm_id":"a","root":{"writable_device":null},"transport":"virtio-serial",
                "overrides":{"entrypoint":[],"cmd":["x"],"user":"1:2"},"log":{"mode":"drop","buffer_bytes":65536},
                "dns":{"nameservers":["10.0.0.1"],"search":["corp"]},"hosts":["10.0.0.2 db"]}"#,
        )
        .unwrap();
        assert_eq!(c.writable_device, None);
        assert_eq!(c.transport, Transport::VirtioSerial);
        assert_eq!(c.overrides.entrypoint, Some(vec![]));
        assert_eq!(c.overrides.user.as_deref(), Some("1:2"));
        assert_eq!(c.log_mode, LogMode::Drop);
        assert_eq!(c.nameservers, vec!["10.0.0.1"]);
        assert_eq!(c.hosts, vec!["10.0.0.2 db"]);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("{not json", "not valid JSON"),
            ("[]", "the run config must be an object"),
            (r#"{"vm_id":"a"}"#, "version is missing"),
            (r#"{"version":2,"vm_id":"a"}"#, "version 2 is not supported"),
            (r#"{"version":1}"#, "vm_id is missing"),
            (
                r#"{"version":1,"vm_id":"a","image_config":{"Cmd":"echo hi"}}"#,
                "image_config.Cmd must be a list of strings",
            ),
            (r#"{"version":1,"vm_id":"a","image_config":{"Env":[1]}}"#, "image_config.Env must be a list of strings"),
            (r#"{"version":1,"vm_id":"a","transport":"pigeon"}"#, "transport \"pigeon\""),
            (
                r#"{"version":1,"vm_id":"a","log":{"buffer_bytes":-1}}"#,
                "log.buffer_bytes must be a non-negative integer",
            ),
            (r#"{"version":1,"vm_id":"a","log":{"mode":"lossy"}}"#, "log.mode"),
            (r#"{"version":1,"vm_id":"a","stop":{"signal":"SIGNOPE"}}"#, "SIGNOPE"),
            (r#"{"version":1,"vm_id":"a","ports":{"logs":99999999999}}"#, "ports.logs is out of range"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err:?} should contain {want:?}");
        }
    }
}
